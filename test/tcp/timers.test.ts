/**
 * A connection's timer slots, read and written by name (timers.ts slotDeadline and
 * setSlotDeadline): each slot is its own field, and the others stay as they were.
 */
import { describe, expect, it } from "vitest";
import { setSlotDeadline, slotDeadline, TimerSet, type TimerSlot } from "../../src/tcp/timers.js";

const SLOTS: TimerSlot[] = ["rto", "tlp", "reorder", "persist", "keepalive", "delayedAck", "linger", "pacing"];

describe("timer slots by name", () => {
  it("each slot reads and writes its own field, and only that one", () => {
    SLOTS.forEach((slot, i) => {
      const t = new TimerSet();
      setSlotDeadline(t, slot, 100 + i);
      expect(t[slot]).toBe(100 + i);
      expect(slotDeadline(t, slot)).toBe(100 + i);
      for (const other of SLOTS) if (other !== slot) expect(slotDeadline(t, other)).toBe(Infinity);
      expect(t.earliest()).toBe(100 + i);
    });
  });
});
