/**
 * A 64-bit FNV-1a hash (two 32-bit lanes) of a text, as 16 hex digits: enough to tell
 * whether two event logs are the same, in Node and in the browser, without crypto.subtle's
 * promise. `Fnv64` takes the text in pieces (an event log of a SYN flood is tens of
 * megabytes as one string); the result is the same as hashing the pieces joined.
 */
export class Fnv64 {
  private a = 0x811c9dc5;
  private b = 0x01000193 ^ 0x5bd1e995;

  update(text: string): this {
    let a = this.a;
    let b = this.b;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x01000193) ^ (b >>> 15);
    }
    this.a = a;
    this.b = b;
    return this;
  }

  digest(): string {
    return (this.a >>> 0).toString(16).padStart(8, "0") + (this.b >>> 0).toString(16).padStart(8, "0");
  }
}

export function hashText(text: string): string {
  return new Fnv64().update(text).digest();
}
