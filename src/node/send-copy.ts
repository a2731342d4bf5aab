/**
 * TCP's copies of the bytes a Socket's write() gives (net-socket.ts). Small ones are cut
 * from shared 8 KiB slabs, as Node's own Buffer pool does (Buffer.allocUnsafe under 4 KiB):
 * a fresh ArrayBuffer per write costs far more than copying the 100 bytes a request often
 * is. A slab is collected once TCP has dropped every chunk cut from it (the peer
 * acknowledged them), so a chunk held long (a peer with a zero window) pins at most 8 KiB,
 * the same bound Node programs already live with.
 */
const COPY_SLAB = 8 * 1024;
let copySlab = new ArrayBuffer(0);
let copySlabUsed = 0;

/** The first `n` bytes of `data`, in memory of TCP's own: it keeps them until acknowledged. */
export function copyForTcp(data: Uint8Array, n: number): Uint8Array {
  if (n >= COPY_SLAB / 2) return new Uint8Array(data.buffer, data.byteOffset, n).slice();
  if (copySlabUsed + n > copySlab.byteLength) {
    copySlab = new ArrayBuffer(COPY_SLAB);
    copySlabUsed = 0;
  }
  const copy = new Uint8Array(copySlab, copySlabUsed, n);
  copySlabUsed += (n + 7) & ~7; // 8-byte aligned, as Node's pool
  copy.set(n === data.length ? data : data.subarray(0, n));
  return copy;
}
