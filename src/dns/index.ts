/**
 * Names: the DNS message codec, a stub resolver over synack's UDP, RFC 8305 Happy Eyeballs
 * and a tiny authoritative server for simulations. Stacks use them when configured with
 * `dns: { servers }`; connect() on both socket APIs then takes host names.
 */
export * from "./message.js";
export { DnsError, getaddrinfoCode, type DnsErrorCode } from "./errors.js";
export { StubResolver, addressesOf, DEFAULT_DNS_ATTEMPTS, DEFAULT_DNS_TIMEOUT, DNS_PORT, type Answer, type AnswerCallback, type DnsServer, type RecordFamily, type ResolverConfig, type ResolverEnv } from "./resolver.js";
export { HappyEyeballs, CONNECTION_ATTEMPT_DELAY, MAX_CONNECTION_ATTEMPT_DELAY, MIN_CONNECTION_ATTEMPT_DELAY, RESOLUTION_DELAY, type Attempt, type Family, type RaceOptions, type RaceTimers } from "./happy-eyeballs.js";
export { answerFromZone, serveZone, type Zone, type ZoneEntry } from "./zone-server.js";
