import { IpAddress } from "../../src/wire/address.js";
import { describe, expect, it } from "vitest";
import { SeqNames } from "../../src/trace/seqnames.js";
import { seq } from "../../src/wire/seq.js";

const A = IpAddress.v4(0x0a000001);
const B = IpAddress.v4(0x0a000002);

describe("SeqNames", () => {
  const names = () => {
    const n = new SeqNames("relative", ["client", "server"]);
    n.addIsn("client", A, 40000, B, 80, seq(1000));
    n.addIsn("server", B, 80, A, 40000, seq(0xfffffff0));
    return n;
  };

  it("names ISNs like the documents: x for the first column, y for the second", () => {
    const n = names();
    expect(n.name(seq(1000), A, 40000, B, 80)).toBe("x");
    expect(n.name(seq(1001), A, 40000, B, 80)).toBe("x+1");
    expect(n.name(seq(999), A, 40000, B, 80)).toBe("x-1");
    expect(n.name(seq(0xfffffff0), B, 80, A, 40000)).toBe("y");
  });

  it("counts across the 2^32 wrap", () => {
    expect(names().name(seq(0x10), B, 80, A, 40000)).toBe("y+32");
  });

  it("leaves numbers of a direction without a known ISN absolute", () => {
    expect(names().name(seq(0), B, 81, A, 40000)).toBe("0");
  });

  it("gives a host's second connection x2 and names each value after the ISN it is closest above", () => {
    const n = names();
    n.addIsn("client", A, 40000, B, 80, seq(5000));
    n.addIsn("client", A, 40000, B, 80, seq(5000)); // a retransmitted SYN names nothing new
    expect(n.name(seq(1001), A, 40000, B, 80)).toBe("x+1");
    expect(n.name(seq(5001), A, 40000, B, 80)).toBe("x2+1");
    expect(n.legend().map((l) => l.name)).toEqual(["x", "y", "x2"]);
  });

  it("uses further letters, then h<n>, for more hosts", () => {
    const n = new SeqNames("relative", ["a", "b", "c", "d", "e"]);
    n.addIsn("c", IpAddress.v4(3), 1, IpAddress.v4(4), 1, seq(7));
    n.addIsn("e", IpAddress.v4(5), 1, IpAddress.v4(4), 1, seq(7));
    expect(n.name(seq(8), IpAddress.v4(3), 1, IpAddress.v4(4), 1)).toBe("z+1");
    expect(n.name(seq(8), IpAddress.v4(5), 1, IpAddress.v4(4), 1)).toBe("h5+1");
  });

  it("prints raw numbers in absolute mode", () => {
    const n = new SeqNames("absolute", ["client"]);
    n.addIsn("client", A, 1, B, 2, seq(0xffffffff));
    expect(n.name(seq(0xffffffff), A, 1, B, 2)).toBe("4294967295");
  });
});
