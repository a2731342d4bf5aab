/** Urgent data (RFC 9293 3.8.5, RFC 6093): a telnet-style interrupt overtakes unread input. */
import type { ScenarioSpec } from "../model.js";
import { LINK, OPEN, PAIR } from "./common.js";

export const urgentData: ScenarioSpec = {
  name: "urgent-data",
  title: "Urgent data: an interrupt the busy server learns of before it reads what was typed",
  description:
    "A remote shell in the style of telnet: the server is busy (it stopped reading) while the client types two commands, then an interrupt. The interrupt is a send() with MSG_OOB: the urgent pointer is set just past its last byte, 'X', and the segment carries URG even though Nagle would otherwise hold it behind the unacknowledged \"ls\" (urgent mode bypasses Nagle, as in Linux). The pointer is 5 because Nagle had already gathered \"date\" into the same segment. The server's TCP takes the byte before the pointer out of the stream at once; the application reads it out of band (recv with MSG_OOB) without reading the typed commands first, and when it reads them later the 'X' is not among them. Only one byte is ever out of band, as in Linux and BSD (RFC 6093 section 3.4; SO_OOBINLINE keeps it in the stream instead).",
  hosts: PAIR,
  links: LINK,
  script: [
    ...OPEN,
    { at: 50, do: "stop-reading", host: "server" },
    { at: 100, do: "send", host: "client", text: "sleep 60\n" },
    { at: 300, do: "send", host: "client", text: "ls\n" },
    { at: 305, do: "send", host: "client", text: "date" },
    { at: 306, do: "send", host: "client", text: "X", urgent: true },
    { at: 1000, do: "read", host: "server" },
    { at: 1100, do: "close", host: "client" },
    { at: 1100, do: "close", host: "server" },
  ],
  expect: [
    // Nagle holds "date" behind the unacknowledged "ls\n"; the urgent write sends both at once.
    { expect: "segment", from: "client", data: true, nth: 1, at: 306, seq: "x+13", len: 5, hasFlags: "URG", urg: 5 },
    // The ACK of it ends urgent mode: no other segment carries URG.
    { expect: "segments", from: "client", hasFlags: "URG", count: 1 },
    { expect: "received", host: "server", text: "sleep 60\nls\ndate", oob: "X" },
  ],
};
