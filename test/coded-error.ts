/** For the random-call properties: whether a thrown or rejected value is an Error with a stable `code`. */
export function hasCode(e: unknown): boolean {
  const code = e instanceof Error ? (e as Error & { code?: unknown }).code : undefined;
  return typeof code === "string" && code.length > 0;
}
