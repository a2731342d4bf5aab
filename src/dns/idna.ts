/**
 * Internationalised names as a resolver asks for them: each label with a letter outside
 * ASCII goes to DNS as its Punycode form, "xn--" and the encoding of RFC 3492 (the
 * A-label of RFC 5890 2.3.2.1), after the mapping UTS #46 makes first for the common case:
 * Unicode normalisation form C and lower case. So `bücher.test` is asked as
 * `xn--bcher-kva.test`, as Node's dns.lookup and glibc with AI_IDN ask for it. Labels
 * that are ASCII already are left exactly as they are (escapes included, see message.ts).
 * Not done: the rest of UTS #46's mapping table and its validity checks (bidi, joiners).
 */
import { DnsError } from "./errors.js";

// RFC 3492 5: the parameters of Punycode.
const BASE = 36;
const T_MIN = 1;
const T_MAX = 26;
const SKEW = 38;
const DAMP = 700;
const INITIAL_BIAS = 72;
const INITIAL_N = 0x80;
/** The largest delta we let the encoder reach; RFC 3492 6.4 asks encoders to detect overflow. */
const MAX_DELTA = 0x7fffffff;

/** UTS #46 4.2 step 1 maps these full stops to ".": the separators IME users type. */
const FULL_STOPS = /[\u3002\uff0e\uff61]/g;

/** `name` with every label that holds a non-ASCII character in its "xn--" form. */
export function toAsciiName(name: string): string {
  if (/^[\x00-\x7f]*$/.test(name)) return name;
  return name
    .replace(FULL_STOPS, ".")
    .split(".")
    .map((label) => (/^[\x00-\x7f]*$/.test(label) ? label : `xn--${punycode(label.normalize("NFC").toLowerCase(), name)}`))
    .join(".");
}

/** RFC 3492 6.3: the basic code points, a delimiter, then each other code point as a variable-length integer. */
export function punycode(label: string, name = label): string {
  const input = Array.from(label, (ch) => ch.codePointAt(0)!);
  let out = input.filter((c) => c < INITIAL_N).map((c) => String.fromCharCode(c)).join("");
  const basic = out.length;
  let handled = basic;
  if (basic > 0) out += "-";
  let n = INITIAL_N;
  let delta = 0;
  let bias = INITIAL_BIAS;
  while (handled < input.length) {
    const m = Math.min(...input.filter((c) => c >= n));
    delta += (m - n) * (handled + 1);
    if (delta > MAX_DELTA) throw new DnsError("EINVAL", `${name}: label too long to encode`);
    n = m;
    for (const c of input) {
      if (c < n) delta++;
      if (c !== n) continue;
      let q = delta;
      for (let k = BASE; ; k += BASE) {
        const t = k <= bias ? T_MIN : k >= bias + T_MAX ? T_MAX : k - bias;
        if (q < t) break;
        out += digit(t + ((q - t) % (BASE - t)));
        q = Math.floor((q - t) / (BASE - t));
      }
      out += digit(q);
      bias = adapt(delta, handled + 1, handled === basic);
      delta = 0;
      handled++;
    }
    delta++;
    n++;
  }
  return out;
}

/** RFC 3492 6.1: the bias after each encoded code point. */
function adapt(delta: number, points: number, first: boolean): number {
  let d = first ? Math.floor(delta / DAMP) : Math.floor(delta / 2);
  d += Math.floor(d / points);
  let k = 0;
  while (d > ((BASE - T_MIN) * T_MAX) >> 1) {
    d = Math.floor(d / (BASE - T_MIN));
    k += BASE;
  }
  return k + Math.floor(((BASE - T_MIN + 1) * d) / (d + SKEW));
}

/** RFC 3492 5: 0-25 are a-z, 26-35 are 0-9. */
function digit(d: number): string {
  return String.fromCharCode(d < 26 ? 97 + d : 22 + d);
}
