import * as v from "valibot";
import { SECTOR_SIZES } from "../sector/proof.ts";
import {
  bool,
  byteSize,
  cpuset,
  duration,
  listenAddr,
  nonEmptyStr,
  nonNegativeInt,
  port,
  positiveInt,
  rpcAddr,
  sectorSize,
  str,
  stringList,
  stringMap,
} from "./fields.ts";

/**
 * The worker's TOML (seed 003, reference §6.6): keys, types and defaults exactly as operators know them,
 * so an existing damocles-worker.toml loads unchanged.
 */

/** Stage names a `[[processors.<stage>]]` block or a limitation key may use (plugins may add more). */
export const BUILTIN_STAGES = [
  "add_pieces",
  "tree_d",
  "pc1",
  "pc2",
  "synth_proof",
  "c1",
  "c2",
  "snap_encode",
  "snap_prove",
  "transfer",
  "unseal",
  "window_post",
  "winning_post",
] as const;
export type BuiltinStage = (typeof BUILTIN_STAGES)[number];

export const PLANS = ["sealer", "snapup", "rebuild", "unseal", "wdpost"] as const;
export type Plan = (typeof PLANS)[number];

export const SEALING_DEFAULTS = {
  allowed_miners: undefined as number[] | undefined,
  allowed_sizes: undefined as number[] | undefined,
  enable_deals: false,
  disable_cc: false,
  max_deals: undefined as number | undefined,
  min_deal_space: undefined as number | undefined,
  max_retries: 5,
  seal_interval: 30_000,
  recover_interval: 60_000,
  rpc_polling_interval: 180_000,
  ignore_proof_check: false,
  request_task_max_retries: 3,
  verify_after_pc2: false,
};

/** `[sealing]` and `sealing.*` of a thread share one shape; defaults are applied only when merging. */
const SealingSchema = v.object({
  allowed_miners: v.optional(v.array(nonNegativeInt("a miner actor id"), "expected a list of miner actor ids")),
  allowed_sizes: v.optional(v.array(sectorSize(), "expected a list of sector sizes")),
  enable_deals: v.optional(bool()),
  disable_cc: v.optional(bool()),
  max_deals: v.optional(nonNegativeInt()),
  min_deal_space: v.optional(byteSize()),
  max_retries: v.optional(nonNegativeInt()),
  seal_interval: v.optional(duration()),
  recover_interval: v.optional(duration()),
  rpc_polling_interval: v.optional(duration()),
  ignore_proof_check: v.optional(bool()),
  request_task_max_retries: v.optional(nonNegativeInt()),
  verify_after_pc2: v.optional(bool()),
});
export type SealingOverrides = v.InferOutput<typeof SealingSchema>;
export type SealingSettings = typeof SEALING_DEFAULTS;

const PlanSchema = v.picklist(PLANS, `expected one of ${PLANS.join(" | ")}`);

/** The per-thread hot file `<location>/config.toml`: same keys as a thread, less `location`. */
export const ThreadHotConfigSchema = v.object({
  plan: v.optional(PlanSchema),
  sealing: v.optional(SealingSchema),
});
export type ThreadHotConfig = v.InferOutput<typeof ThreadHotConfigSchema>;

const SealingThreadSchema = v.pipe(
  v.object({
    location: v.optional(nonEmptyStr("a directory path")),
    plan: v.optional(PlanSchema),
    sealing: v.optional(SealingSchema),
  }),
  v.forward(
    v.check(
      (t) => t.location !== undefined || t.plan === "wdpost",
      'required key is missing: every sealing thread except plan = "wdpost" needs a location (a sealing store directory)',
    ),
    ["location"],
  ),
);
export type SealingThreadConfig = v.InferOutput<typeof SealingThreadSchema>;

export const ProcessorSchema = v.object({
  bin: v.optional(nonEmptyStr("a path to an executable")),
  args: v.optional(stringList()),
  stable_wait: v.optional(duration(), "5s"),
  numa_preferred: v.optional(nonNegativeInt("a NUMA node id")),
  cgroup: v.optional(
    v.object({
      group_name: v.optional(nonEmptyStr(), "vc-worker"),
      cpuset: v.optional(cpuset()),
    }),
  ),
  envs: v.optional(stringMap("a table of environment variables with string values")),
  concurrent: v.optional(positiveInt()),
  locks: v.optional(stringList("a list of ext_locks names")),
  auto_restart: v.optional(bool(), true),
  inherit_envs: v.optional(bool(), true),
});
export type ProcessorConfig = v.InferOutput<typeof ProcessorSchema>;

const ProcessorListSchema = v.array(ProcessorSchema, "expected [[processors.<stage>]] blocks");

const ProcessorsSchema = v.objectWithRest(
  {
    limit: v.optional(v.record(v.string(), nonNegativeInt("a task count"))),
    limitation: v.optional(
      v.object({
        concurrent: v.optional(v.record(v.string(), nonNegativeInt("a task count")), {}),
        staggered: v.optional(v.record(v.string(), duration()), {}),
      }),
      {},
    ),
    ext_locks: v.optional(v.record(v.string(), positiveInt("a positive holder count")), {}),
    static_tree_d: v.optional(v.record(sectorSizeKey(), nonEmptyStr("a path to a tree_d file")), {}),
  },
  ProcessorListSchema,
);

/** `[processors.static_tree_d]` keys are sector sizes ("2KiB = …"). */
function sectorSizeKey() {
  const names = Object.keys(SECTOR_SIZES);
  return v.pipe(
    v.string(),
    v.check((k) => names.includes(k), `expected a sector size key (${names.join(", ")})`),
  );
}

const AttachedSchema = v.object({
  name: v.optional(nonEmptyStr()),
  location: nonEmptyStr("a directory path"),
  readonly: v.optional(bool(), false),
});

export const WorkerFileSchema = v.object({
  worker: v.optional(
    v.object({
      name: v.optional(nonEmptyStr()),
      rpc_server: v.optional(
        v.object({ host: v.optional(nonEmptyStr(), "0.0.0.0"), port: v.optional(port({ allowZero: true }), 17890) }),
        {},
      ),
      ping_interval: v.optional(duration(), "30s"),
      local_pieces_dir: v.optional(nonEmptyStr()),
      local_pieces_dirs: v.optional(stringList()),
      scan_persist_stores: v.optional(stringList("a list of glob patterns")),
      plugins_dir: v.optional(nonEmptyStr("a directory path")),
    }),
    {},
  ),
  metrics: v.optional(
    v.object({ enable: v.optional(bool(), false), http_listen: v.optional(listenAddr(), "0.0.0.0:9000") }),
    {},
  ),
  sector_manager: v.object({
    rpc_client: v.object({
      addr: rpcAddr(),
      headers: v.optional(stringMap()),
    }),
    /** A token of the manager (write permission): sent as `Authorization: Bearer` unless headers carry one. */
    token: v.optional(str()),
    piece_token: v.optional(str()),
  }),
  sealing: v.optional(SealingSchema, {}),
  sealing_thread: v.optional(v.array(SealingThreadSchema, "expected [[sealing_thread]] blocks"), []),
  attached: v.optional(v.array(AttachedSchema, "expected [[attached]] blocks"), []),
  /** Legacy single persist store from venus-worker days; read as one more `[[attached]]`. */
  remote_store: v.optional(AttachedSchema),
  processors: v.optional(ProcessorsSchema, {}),
});
export type WorkerFile = v.InferOutput<typeof WorkerFileSchema>;
/** A persist store the worker writes to or reads from, its name resolved (the location's base name by default). */
export type AttachedStore = Required<v.InferOutput<typeof AttachedSchema>>;

/** The worker configuration after defaults, legacy aliases and per-thread merging. */
export interface WorkerConfig {
  worker: WorkerFile["worker"];
  metrics: WorkerFile["metrics"];
  sector_manager: WorkerFile["sector_manager"] & { rpcUrl: string };
  sealing: SealingOverrides;
  threads: ResolvedThread[];
  attached: AttachedStore[];
  processors: {
    limitation: { concurrent: Record<string, number>; staggered: Record<string, number> };
    ext_locks: Record<string, number>;
    static_tree_d: Record<string, string>;
    /** `[[processors.<stage>]]` entries by stage name; a stage absent here runs in-process. */
    stages: Record<string, ProcessorConfig[]>;
  };
}

export interface ResolvedThread {
  index: number;
  location: string | undefined;
  plan: Plan;
  /** thread `sealing.*` > `[sealing]` > defaults (the hot file is applied at sector start, see mergeHot). */
  sealing: SealingSettings;
}

export function mergeSealing(...layers: (SealingOverrides | undefined)[]): SealingSettings {
  const out: SealingSettings = { ...SEALING_DEFAULTS };
  for (const layer of layers) {
    if (!layer) continue;
    for (const [k, val] of Object.entries(layer)) {
      if (val !== undefined) (out as Record<string, unknown>)[k] = val;
    }
  }
  return out;
}

/** Thread settings with a hot `<location>/config.toml` applied on top (it cannot change location). */
export function applyHotConfig(
  thread: ResolvedThread,
  hot: ThreadHotConfig | undefined,
  common: SealingOverrides,
  file: SealingThreadConfig,
): ResolvedThread {
  if (!hot) return thread;
  return {
    ...thread,
    plan: hot.plan ?? thread.plan,
    sealing: mergeSealing(common, file.sealing, hot.sealing),
  };
}
