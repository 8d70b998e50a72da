import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { native } from "./native.ts";

/**
 * Process-wide settings of the proofs library. rust-fil-proofs reads FIL_PROOFS_* once per process,
 * and under Bun a `process.env.X = …` assignment is invisible to native code, so the settings are put
 * into the environment from Rust (`configure`) before the first proof call, and frozen after it.
 *
 * Precedence: explicit `configureProofs()` > the process environment at start-up (e.g. a processor child
 * spawned with an explicit env) > damocles defaults. Every proof function calls `ensureProofsConfigured()`,
 * so a process that never configures gets the defaults.
 */

/** rust-fil-proofs' production parameter directory: damocles never writes devnet parameters there unasked. */
export const STANDARD_PARAMETER_DIR = "/var/tmp/filecoin-proof-parameters";

/** damocles' own parameter directory (~/.cache/damocles/params), outside the production directory. */
export function damoclesParamsDir(): string {
  return join(process.env.DAMOCLES_CACHE ?? join(homedir(), ".cache", "damocles"), "params");
}

/** The directory used when none is given: $FIL_PROOFS_PARAMETER_CACHE, else damocles' own. */
export function defaultParamsDir(): string {
  const fromEnv = process.env.FIL_PROOFS_PARAMETER_CACHE;
  if (fromEnv && fromEnv.trim() !== "") return resolve(fromEnv);
  return damoclesParamsDir();
}

export interface ProofsSettings {
  /** Directory of `.params`/`.vk` files (FIL_PROOFS_PARAMETER_CACHE). */
  parameterCache?: string;
  /** Directory of SDR parent caches (FIL_PROOFS_PARENT_CACHE); library default when unset. */
  parentCache?: string;
  /** FIL_PROOFS_USE_MULTICORE_SDR; needs an addon built with the `multicore-sdr` feature. */
  useMulticoreSdr?: boolean;
  /** Forward the library's logs to stderr: "error" | "warn" | "info" | "debug" | "trace". */
  logLevel?: string;
}

export interface EffectiveProofsSettings {
  parameterCache: string;
  parentCache: string;
  useMulticoreSdr: boolean;
  /** True once a proof call ran in this process: the settings can no longer change. */
  locked: boolean;
}

let configured: EffectiveProofsSettings | undefined;

function normalize(s: string): string {
  return resolve(s).replace(/\/+$/, "");
}

/**
 * Applies settings for this process. Call it before the first proof call; afterwards only the values
 * already in force are accepted (anything else throws, naming the setting).
 */
export function configureProofs(settings: ProofsSettings = {}): EffectiveProofsSettings {
  const parameterCache = normalize(settings.parameterCache ?? defaultParamsDir());
  if (configured && normalize(configured.parameterCache) !== parameterCache) {
    if (configured.locked || native().addonInfo().config.locked) {
      throw new Error(
        `proofs parameter directory is already ${configured.parameterCache} in this process; ` +
          `cannot switch to ${parameterCache} after the first proof call (start a new process instead)`,
      );
    }
  }
  const env = process.env;
  const parentCache = settings.parentCache ?? (env.FIL_PROOFS_PARENT_CACHE || undefined);
  const multicore =
    settings.useMulticoreSdr ??
    (env.FIL_PROOFS_USE_MULTICORE_SDR === undefined ? undefined : /^(1|true)$/i.test(env.FIL_PROOFS_USE_MULTICORE_SDR));
  const logLevel = settings.logLevel ?? (env.DAMOCLES_PROOFS_LOG || undefined);
  const result = native().configure({
    parameterCache,
    ...(parentCache ? { parentCache: resolve(parentCache) } : {}),
    ...(multicore === undefined ? {} : { useMulticoreSdr: multicore }),
    ...(logLevel ? { logLevel } : {}),
  });
  configured = { ...result, parameterCache: normalize(result.parameterCache) };
  return configured;
}

/** The settings in force, configuring with defaults on first use. */
export function ensureProofsConfigured(): EffectiveProofsSettings {
  return configured ?? configureProofs();
}

/** The settings in force without configuring (undefined before the first configure). */
export function currentProofsSettings(): EffectiveProofsSettings | undefined {
  if (!configured) return undefined;
  return { ...configured, locked: native().addonInfo().config.locked };
}

/** Addon version and compiled-in cargo features ("cuda", "multicore-sdr"). */
export function addonInfo(): { version: string; features: string[] } {
  const info = native().addonInfo();
  return { version: info.version, features: info.features };
}

/**
 * FIL_PROOFS_* variables for a child process (e.g. `Bun.spawn(cmd, { env: { ...process.env, ...proofsEnv() } })`),
 * so a processor child proves with the same settings as this process. Bun children only inherit what
 * `env` lists, and runtime `process.env` writes never reach native code.
 */
export function proofsEnv(): Record<string, string> {
  const s = ensureProofsConfigured();
  return {
    FIL_PROOFS_PARAMETER_CACHE: s.parameterCache,
    FIL_PROOFS_PARENT_CACHE: s.parentCache,
    FIL_PROOFS_USE_MULTICORE_SDR: s.useMulticoreSdr ? "1" : "0",
  };
}
