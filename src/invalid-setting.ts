/**
 * A setting or argument out of its range: a host's MTU or TTL, a route, a link's loss rate,
 * a reassembly limit, a fault rule, a seed. Still a RangeError, as these always were, and
 * now with the stable code of the TCP settings' errors (tcp/errors.ts InvalidArgumentError),
 * so that a program can switch on `code` whichever layer refused its configuration.
 */
export class InvalidSettingError extends RangeError {
  readonly code = "ERR_INVALID_ARG_VALUE";
  constructor(message: string) {
    super(message);
    this.name = "InvalidSettingError";
  }
}
