/**
 * A value from the application, as an error message quotes it: a string in double quotes,
 * anything else as `String()` gives it. `String()` runs the value's own conversion, and that
 * may throw: an object whose `toString` is not a function, a Proxy, a getter that throws. An
 * error raised while describing a bad argument would escape as that TypeError instead of the
 * coded error a program switches on, so a value that cannot be converted is shown by its type.
 */
export function showValue(value: unknown): string {
  // A string in quotes: "80" is not 80, and an empty one is "" rather than nothing at all.
  if (typeof value === "string") return JSON.stringify(value);
  try {
    return String(value);
  } catch {
    return `(an ${typeof value} that cannot be shown)`;
  }
}

/**
 * One character of a file, as an error message quotes it: itself in quotes when it can be
 * seen, else its code point (a control byte, a byte order mark, a zero-width space), which a
 * quoted copy would leave invisible: `unexpected character ''`.
 */
export function showChar(c: string): string {
  const code = c.codePointAt(0) ?? 0;
  const invisible = code < 0x20 || (code >= 0x7f && code < 0xa0) || code === 0xfeff || (code >= 0x200b && code <= 0x200f) || (code >= 0x2028 && code <= 0x202e);
  if (!invisible) return JSON.stringify(c);
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
  return code === 0xfeff ? `${hex} (a byte order mark: save the file as UTF-8 without BOM)` : hex;
}
