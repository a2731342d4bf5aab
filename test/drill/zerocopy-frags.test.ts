/** The runner's layout of a MSG_ZEROCOPY gather write into Linux's skbs of at most 17 page fragments. */
import { describe, expect, it } from "vitest";
import { MAX_SKB_FRAGS, zerocopySkbEnds } from "../../src/drill/zerocopy-frags.js";

describe("zerocopySkbEnds", () => {
  it("18 one-byte iovecs: one skb of 17 fragments, then one of 1", () => {
    expect(MAX_SKB_FRAGS).toBe(17);
    expect(zerocopySkbEnds(new Array(18).fill(1))).toEqual([17]);
  });

  it("17 or fewer fragments fit one skb; empty iovecs take none", () => {
    expect(zerocopySkbEnds(new Array(17).fill(100))).toEqual([]);
    expect(zerocopySkbEnds([0, 5, 0, 0, 5])).toEqual([]);
  });

  it("an iovec spanning pages takes a fragment per 4 KiB page", () => {
    // 16 one-byte fragments, then 8 KiB: its first page is the 17th fragment, its second starts a new skb.
    expect(zerocopySkbEnds([...new Array(16).fill(1), 8192])).toEqual([16 + 4096]);
    expect(zerocopySkbEnds(new Array(35).fill(1))).toEqual([17, 34]);
  });
});
