/**
 * node:util parseArgs's refusals in the words of synack's command lines (`synack demo` and
 * `synack tun` alike): its own first line is cut short ("argument is ambiguous") or speaks of
 * positionals with unbalanced quotes.
 */
export function argsMessage(e: unknown, args: readonly string[]): string {
  if (!(e instanceof Error)) return String(e);
  const code = (e as Error & { code?: unknown }).code;
  const option = /^Option '(-[\w-]+)/.exec(e.message)?.[1] ?? /^Unknown option '([^']*)'/.exec(e.message)?.[1];
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" && option !== undefined && e.message.includes("ambiguous")) {
    // `--seed -5`: the value starts with a dash, so it could be another option.
    const value = args[args.indexOf(option) + 1] ?? "";
    return `${option} ${value}: a value that starts with "-" goes after "=", as in ${option}=${value}`;
  }
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && option !== undefined) return `unknown option ${option}`;
  return e.message.split("\n")[0] ?? e.message;
}
