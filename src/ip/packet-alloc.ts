/**
 * Buffers for outgoing packets, carved from 64 KiB slabs. A packet's buffer is handed
 * to the link and never reused by us, so carving is safe; it replaces one zero-filled
 * allocation per packet (about 2 us at 1,500 bytes) with a view (tens of ns). A slab is
 * freed by the garbage collector once every packet cut from it is gone.
 *
 * 64 KiB, below glibc's mmap threshold (128 KiB): a slab is then memory the allocator
 * had already, not a fresh mapping whose pages fault in as the packets are written. With
 * 256 KiB slabs the bulk benchmark at MTU 1500 spent 4-5% more CPU, about what reusing
 * slabs outright saved (an unsafe experiment: nothing says when a packet is gone).
 *
 * Packets start on 8-byte boundaries, so the TCP header (at +20) is 4-byte aligned and
 * the checksum can sum 32-bit words.
 */
const SLAB_SIZE = 64 * 1024;
/** Larger packets get their own buffer rather than wasting the rest of a slab. */
const MAX_CARVED = 16 * 1024;

/**
 * Slabs die as the receiver lets go of the packets cut from them, and glibc's malloc gives
 * memory at the top of its heap back to the system once more than its trim threshold
 * (128 KiB by default) lies free there; the next slabs then fault their pages in afresh,
 * one fault per 4 KiB. glibc raises that threshold by itself (mallopt(3), M_MMAP_THRESHOLD:
 * "the threshold is adjusted upward to the size of the freed chunk", and the trim
 * threshold to twice that) the first time a block it had mapped on its own is freed. One
 * such block, made and dropped when the first slab is, lets a busy stack keep about 8 MiB
 * of freed slabs for the next ones: -45% page faults and +20% throughput for bulk at MTU
 * 1500, as much as the MALLOC_TRIM_THRESHOLD_ setting of BENCHMARKS.md's glibc-keep row.
 * Elsewhere (other allocators, browsers) it is one short-lived 4 MiB buffer, never written.
 */
const ALLOCATOR_HINT_SIZE = 4 * 1024 * 1024;
let allocatorHinted = false;

export class PacketAllocator {
  private slab = new ArrayBuffer(0);
  private offset = 0;

  alloc(length: number): Uint8Array {
    if (length > MAX_CARVED) return new Uint8Array(length);
    if (this.offset + length > this.slab.byteLength) {
      if (!allocatorHinted) hintAllocator();
      this.slab = new ArrayBuffer(SLAB_SIZE);
      this.offset = 0;
    }
    const view = new Uint8Array(this.slab, this.offset, length);
    this.offset += (length + 7) & ~7;
    return view;
  }
}

/** Makes and drops the block that raises glibc's trim threshold (see ALLOCATOR_HINT_SIZE). */
function hintAllocator(): void {
  allocatorHinted = true;
  void new ArrayBuffer(ALLOCATOR_HINT_SIZE);
}

/**
 * Room left in front of a payload copy for the headers of its packet: IPv6 (40) plus the
 * largest TCP header (60), rounded up so that the TCP header, which ends where the payload
 * starts, stays 4-byte aligned for the checksum.
 */
export const HEADROOM = 128;

/**
 * Payload copies are carved from slabs of their own, like packets: a fresh ArrayBuffer
 * each (zero-filled, and its backing store set up and accounted by the runtime) cost
 * about 1 us, and one segment in 45 takes one in bulk transfer of 64 KiB writes.
 */
const headroomSlabs = new PacketAllocator();

/**
 * The copy `withHeadroom` made last, while its front is unclaimed. The copy is sent at
 * once (Sender.emitData peeks it and hands it down in the same call), so one slot serves,
 * and an identity test replaces a WeakSet lookup and the `byteOffset` getter that every
 * data segment paid in `claimFront`. A copy the slot no longer holds is copied again into
 * a packet of its own: slower, never wrong.
 */
let unclaimed: Uint8Array | undefined;

/**
 * A fresh `length`-byte array with HEADROOM unused bytes in front of it in the same
 * buffer. Where the stack has to copy payload anyway (a segment that spans two send-buffer
 * chunks), copying it here lets IP output build the packet around it (`claimFront`)
 * instead of allocating a packet and copying the payload a second time.
 */
export function withHeadroom(length: number): Uint8Array {
  return (unclaimed = headroomSlabs.alloc(HEADROOM + length).subarray(HEADROOM));
}

/**
 * The packet around `payload`: `front` bytes before it and the payload, as one view, if
 * the payload is the latest copy from `withHeadroom`, `front` fits in its room and nobody
 * claimed it yet; else undefined. One claim per copy: a packet handed to a link is never
 * written again.
 */
export function claimFront(payload: Uint8Array, front: number): Uint8Array | undefined {
  if (payload !== unclaimed || front > HEADROOM) return undefined;
  unclaimed = undefined;
  return new Uint8Array(payload.buffer, payload.byteOffset - front, front + payload.length);
}
