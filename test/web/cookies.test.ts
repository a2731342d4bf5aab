/**
 * The SYN cookie flood in the playground: the client's SYN,ACK carries a cookie and its
 * final ACK echoes it; both are decoded with the listener's own SynCookies logic.
 */
import { describe, expect, it } from "vitest";
import { findBuiltin } from "../../src/scenario/builtin/index.js";
import { runSession } from "../../web/playground/model/session.js";

describe("SYN cookies decoded in the playground", () => {
  it("syn-flood-cookies: the client's SYN,ACK is a cookie (counter 0, MSS index 3 = 1460) and its ACK brings it back, accepted", () => {
    const s = runSession(findBuiltin("syn-flood-cookies")!);
    const made = s.segments.filter((r) => r.from === "server" && r.to === "client" && r.cookie !== undefined);
    expect(made).toHaveLength(1);
    const m = made[0]!.cookie!;
    expect(m).toMatchObject({ role: "made", action: "sent", cookie: made[0]!.seg.seq >>> 0 });
    expect(m.decoding).toMatchObject({ counter: 0, age: 0, mssIndex: 3, mss: 1460, valid: true });
    const echoed = s.segments.filter((r) => r.from === "client" && r.cookie !== undefined);
    expect(echoed).toHaveLength(1);
    expect(echoed[0]!.cookie).toMatchObject({ role: "echoed", action: "accepted", cookie: m.cookie, clientIsn: m.clientIsn });
    expect(echoed[0]!.cookie!.decoding.valid).toBe(true);
  });

  it("without cookies nothing is decoded", () => {
    const s = runSession(findBuiltin("handshake")!);
    expect(s.segments.some((r) => r.cookie !== undefined)).toBe(false);
  });
});
