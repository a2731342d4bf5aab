/**
 * A setting or argument a layer cannot take: out of its range (a host's MTU or TTL, a route,
 * a link's loss rate, a reassembly limit, a fault rule, a seed, a TUN device's name), or
 * naming what is taken or absent (a host name or address used twice, a host that does not
 * exist, an address that does not parse). A RangeError, as most of these always were, with
 * the stable code of the TCP settings' errors (tcp/errors.ts InvalidArgumentError), so that a
 * program can switch on `code` whichever layer refused its configuration.
 */
export class InvalidSettingError extends RangeError {
  readonly code = "ERR_INVALID_ARG_VALUE";
  constructor(message: string) {
    super(message);
    this.name = "InvalidSettingError";
  }
}

/**
 * Refuses a key that is none of `known`: a misspelt setting (`dealy`, `sede`) would otherwise
 * be ignored without a word, and the run would quietly use the default.
 */
export function checkKnownKeys(what: string, settings: object, known: readonly string[]): void {
  for (const k of Object.keys(settings)) {
    if (!known.includes(k)) throw new InvalidSettingError(`unknown ${what} setting ${k}; known settings: ${known.join(", ")}`);
  }
}
