/**
 * A value from the application, as an error message quotes it. `String()` runs the value's
 * own conversion, and that may throw: an object whose `toString` is not a function, a Proxy,
 * a getter that throws. An error raised while describing a bad argument would escape as that
 * TypeError instead of the coded error a program switches on, so a value that cannot be
 * converted is shown by its type.
 */
export function showValue(value: unknown): string {
  try {
    return String(value);
  } catch {
    return `(an ${typeof value} that cannot be shown)`;
  }
}
