/**
 * Configuration: valibot schemas of the worker TOML, sector-manager.cfg and ext-prover.cfg, loaded with
 * smol-toml into typed values (durations, sizes, FIL amounts, cpusets, addresses); errors name the file,
 * line, key, bad value and expected form. Also the manager's home directory layout.
 */

export * from "./diagnostics.ts";
export type { ExtProverConfig, ExtProverEntryConfig } from "./ext-prover.ts";
export * from "./fields.ts";
export * from "./load.ts";
export type { DevnetConfig, ManagerConfig, MinerConfig, PersistStoreConfig } from "./manager.ts";
export * from "./units.ts";
export type {
  AttachedStore,
  Plan,
  ProcessorConfig,
  ResolvedThread,
  SealingSettings,
  ThreadHotConfig,
  WorkerConfig,
} from "./worker.ts";
export { applyHotConfig, BUILTIN_STAGES, mergeSealing, PLANS, SEALING_DEFAULTS } from "./worker.ts";
