import { describe, expect, it } from "vitest";
import { renderTable, type HostTable } from "../../src/trace/table.js";

const table: HostTable = {
  host: "server",
  address: "10.0.0.2",
  time: 2500,
  sockets: [
    { state: "LISTEN", recvQ: 0, sendQ: 511, local: "0.0.0.0:80", peer: "0.0.0.0:*", synQueue: { length: 3, limit: 3, drops: 5, acceptDrops: 0 } },
    { state: "SYN_RCVD", recvQ: 0, sendQ: 0, local: "10.0.0.2:80", peer: "198.18.0.1:1000", timer: { name: "on", remaining: 510, retries: 1 } },
    { state: "SYN_RCVD", recvQ: 0, sendQ: 0, local: "10.0.0.2:80", peer: "198.18.0.2:1000", timer: { name: "on", remaining: 1500, retries: 0 } },
    { state: "SYN_RCVD", recvQ: 0, sendQ: 0, local: "10.0.0.2:80", peer: "198.18.0.3:1000" },
    { state: "TIME_WAIT", recvQ: 0, sendQ: 0, local: "10.0.0.2:80", peer: "10.0.0.1:40000", timer: { name: "timewait", remaining: 59_000, retries: 0 } },
  ],
};

describe("the connection table", () => {
  it("looks like ss -tan -o, with a summary like ss -s", () => {
    expect(renderTable(table)).toEqual([
      "server (10.0.0.2) at 2.500s: 5 sockets (listen 1, synrecv 3, timewait 1)",
      "State      Recv-Q  Send-Q  Local Address:Port  Peer Address:Port  Details",
      "LISTEN          0     511  0.0.0.0:80          0.0.0.0:*          synq:3/3 syn-drops:5",
      "SYN_RCVD        0       0  10.0.0.2:80         198.18.0.1:1000    timer:(on,510ms,1)",
      "SYN_RCVD        0       0  10.0.0.2:80         198.18.0.2:1000    timer:(on,1.5s,0)",
      "SYN_RCVD        0       0  10.0.0.2:80         198.18.0.3:1000",
      "TIME_WAIT       0       0  10.0.0.2:80         10.0.0.1:40000     timer:(timewait,59s,0)",
    ]);
  });

  it("keeps state names out of the summary, so grep SYN_RCVD counts rows (like netstat | grep SYN_RECV)", () => {
    expect(renderTable(table).filter((l) => l.includes("SYN_RCVD"))).toHaveLength(3);
  });

  it("can show a few rows per state and count the rest", () => {
    const lines = renderTable(table, { maxPerState: 1 });
    expect(lines.filter((l) => l.startsWith("SYN_RCVD"))).toHaveLength(1);
    expect(lines.at(-1)).toBe("... and 2 more in synrecv");
  });

  it("says so when a host has no sockets", () => {
    expect(renderTable({ ...table, sockets: [] })[0]).toBe("server (10.0.0.2) at 2.500s: no sockets");
  });
});
