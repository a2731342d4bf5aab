/**
 * node:net's argument rules, so that a program moved from node:net to synack meets the same
 * refusals (the same `code` and error class) and the same leniencies. Each rule below is
 * what Node 20's lib/net.js and lib/internal/validators.js do, checked against Node itself by
 * test/node/net-differential.test.ts:
 * - switches are coerced with Boolean(), never refused: `setNoDelay(1)`, `setKeepAlive("yes")`;
 * - a number argument of another type is ERR_INVALID_ARG_TYPE (TypeError), and one outside
 *   its range ERR_OUT_OF_RANGE (RangeError);
 * - keep-alive delays are whole seconds, as TCP_KEEPIDLE is (`~~(ms / 1000)`).
 */
import { nodeError, type NetError } from "./net-errors.js";
import { showValue } from "../show-value.js";
import { Stack } from "../api/stack.js";

/**
 * The synack Stack a node:net object runs on, checked when it is made: anything else (null,
 * a plain object) failed only at connect time, as "getaddrinfo ENOTFOUND 10.0.0.2".
 */
export function checkStack(who: string, stack: unknown): Stack {
  if (stack instanceof Stack) return stack;
  throw nodeError("ERR_INVALID_ARG_VALUE", `${who} needs a synack Stack (SimDriver's addStack(), loopbackPair(), new NodeStack()), got ${received(stack)}`, TypeError);
}

/** How Node's validators name what they received: "type string ('x')", "an instance of Object", "null". */
function received(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value === "function") return `function ${value.name === "" ? "(anonymous)" : value.name}`;
  if (typeof value === "object") {
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof name === "string" && name !== "" ? `an instance of ${name}` : "an object";
  }
  if (typeof value === "symbol") return `type symbol (${showValue(value.description)})`;
  return `type ${typeof value} (${typeof value === "string" ? `'${value}'` : showValue(value)})`;
}

/** `The "name" argument must be ...` or, for an option, `The "options.x" property must be ...`. */
function subject(name: string): string {
  return name.includes(".") ? `The "${name}" property` : `The "${name}" argument`;
}

export function invalidArgType(name: string, expected: string, value: unknown): NetError {
  return nodeError("ERR_INVALID_ARG_TYPE", `${subject(name)} must be ${expected}. Received ${received(value)}`, TypeError);
}

/** Node's validateNumber without bounds: any number (NaN too), nothing else. */
export function validateNumber(value: unknown, name: string): asserts value is number {
  if (typeof value !== "number") throw invalidArgType(name, "of type number", value);
}

export function validateFunction(value: unknown, name: string): asserts value is (...args: never[]) => unknown {
  if (typeof value !== "function") throw invalidArgType(name, "of type function", value);
}

/**
 * A timer's duration as Node's getTimerDuration takes it (socket.setTimeout): a number, not
 * negative, finite. Durations past 2^31 - 1 are the caller's to clamp.
 */
export function validateTimerDuration(value: unknown, name: string): asserts value is number {
  validateNumber(value, name);
  if (!(value >= 0) || !Number.isFinite(value)) {
    throw nodeError("ERR_OUT_OF_RANGE", `The value of "${name}" is out of range. It must be a non-negative finite number. Received ${showValue(value)}`, RangeError);
  }
}

/**
 * Node's validatePort: a number or a string of one, whole, 0-65535 (0 allowed), else
 * ERR_SOCKET_BAD_PORT; returns it as a number. Callers check the type first, where Node's
 * own callers do (a port of another type is their error to name).
 */
export function validatePort(port: number | string, name: string): number {
  if ((typeof port === "string" && port.trim().length === 0) || +port !== +port >>> 0 || +port > 0xffff) {
    throw nodeError("ERR_SOCKET_BAD_PORT", `${name} should be >= 0 and < 65536. Received ${typeof port === "string" ? `type string ('${port}')` : showValue(port)}.`, RangeError);
  }
  return +port | 0;
}

/** Linux's largest TCP_KEEPIDLE (MAX_TCP_KEEPIDLE), in seconds. */
const MAX_KEEPIDLE_S = 32767;

/**
 * The keep-alive idle time node:net asks the kernel for, from a delay in milliseconds:
 * `~~(ms / 1000)` seconds, as Node's setKeepAlive. Returns milliseconds, or undefined where the
 * kernel would refuse the value and keep the one it had (0, negative, past MAX_TCP_KEEPIDLE).
 * A symbol or bigint throws, as the division does in Node, but with a code.
 */
export function keepAliveIdleMs(initialDelay: unknown): number | undefined {
  let seconds: number;
  try {
    seconds = ~~((initialDelay as number) / 1000);
  } catch {
    // A symbol, a bigint, an object whose valueOf throws: Node throws from the division.
    throw invalidArgType("initialDelay", "of type number", initialDelay);
  }
  return seconds >= 1 && seconds <= MAX_KEEPIDLE_S ? seconds * 1000 : undefined;
}

/**
 * The keep-alive options of `new net.Socket(options)` and `net.createServer(options)`:
 * `keepAliveInitialDelay` must be a number if given (a negative one counts as 0).
 */
export function checkKeepAliveDelayOption(options: { keepAliveInitialDelay?: unknown }): void {
  if (options.keepAliveInitialDelay !== undefined) validateNumber(options.keepAliveInitialDelay, "options.keepAliveInitialDelay");
}
