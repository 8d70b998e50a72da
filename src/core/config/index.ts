export * from "./diagnostics.ts";
export * from "./fields.ts";
export * from "./load.ts";
export * from "./units.ts";
export type { WorkerConfig, ResolvedThread, ProcessorConfig, Plan, SealingSettings, ThreadHotConfig } from "./worker.ts";
export { BUILTIN_STAGES, PLANS, SEALING_DEFAULTS, applyHotConfig, mergeSealing } from "./worker.ts";
export type { ManagerConfig, MinerConfig, PersistStoreConfig, DevnetConfig } from "./manager.ts";
export type { ExtProverConfig, ExtProverEntryConfig } from "./ext-prover.ts";
