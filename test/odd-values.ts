/** For the settings properties: values a configuration might hold by mistake. */
import fc from "fast-check";

/**
 * Any value at all, or one of `likely` (the edges of the settings at hand), NaN, Infinity,
 * true, and an object whose conversion to a string throws (an error message that quotes it
 * must not).
 */
export function oddValue(...likely: unknown[]): fc.Arbitrary<unknown> {
  return fc.oneof(fc.anything({ maxDepth: 1 }), fc.constantFrom(...likely, Number.NaN, Infinity, true, { toString: false }));
}
