/** The usual cast of the built-in scenarios: a client and a server 10 ms apart. */
import type { HostSpec, LinkSpec } from "../model.js";

export const CLIENT: HostSpec = { name: "client", address: "10.0.0.1" };
export const SERVER: HostSpec = { name: "server", address: "10.0.0.2" };
export const PAIR: HostSpec[] = [CLIENT, SERVER];
export const LINK: LinkSpec[] = [{ between: ["client", "server"], delay: 10 }];

/** Server listens on 80 and the client connects, both at time 0. */
export const OPEN = [
  { at: 0, do: "listen", host: "server", port: 80 },
  { at: 0, do: "connect", host: "client", to: "server", port: 80 },
] as const;
