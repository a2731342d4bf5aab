/**
 * Property tests explore new random cases on every local run. In CI they use one fixed
 * seed (FC_SEED overrides it), so a CI run is reproducible and cannot fail by chance
 * on a case nobody can replay; a failing local seed is printed by fast-check to replay.
 */
import fc from "fast-check";

if (process.env.CI) fc.configureGlobal({ seed: Number(process.env.FC_SEED ?? 20261122) });
