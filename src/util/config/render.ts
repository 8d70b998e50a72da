import {
  type ExtProverConfig,
  formatBytes,
  formatDuration,
  formatFil,
  type ManagerConfig,
  type ProcessorConfig,
  SEALING_DEFAULTS,
  type SealingSettings,
  type ThreadHotConfig,
  type WorkerConfig,
} from "../../core/config/index.ts";

/**
 * Text views of an effective configuration: what the daemon will actually use, with where each
 * sealing value came from, so an operator can see the merge instead of guessing it.
 */

const DURATION_KEYS = new Set(["seal_interval", "recover_interval", "rpc_polling_interval"]);

function sealingValue(key: string, value: unknown): string {
  if (value === undefined) return key === "allowed_miners" || key === "allowed_sizes" ? "any" : "-";
  if (DURATION_KEYS.has(key) && typeof value === "number") return formatDuration(value);
  if (key === "min_deal_space" && typeof value === "number") return formatBytes(value);
  if (key === "allowed_sizes" && Array.isArray(value)) return value.map((b) => formatBytes(b as number)).join(", ");
  if (Array.isArray(value)) return value.join(", ");
  return String(value);
}

export interface ThreadView {
  index: number;
  location: string | undefined;
  plan: string;
  planSource: string;
  sealing: SealingSettings;
  /** key → "thread" | "[sealing]" | "default" | "config.toml" */
  sources: Record<string, string>;
  hotFile?: string;
}

export function threadViews(
  cfg: WorkerConfig,
  fileThreads: { sealing?: Record<string, unknown>; plan?: string }[],
  hot: (ThreadHotConfig | undefined)[],
  hotFiles: (string | undefined)[],
): ThreadView[] {
  return cfg.threads.map((t, i) => {
    const layers: [string, Record<string, unknown> | undefined][] = [
      ["[sealing]", cfg.sealing as Record<string, unknown>],
      ["thread", fileThreads[i]?.sealing],
      ["config.toml", hot[i]?.sealing as Record<string, unknown> | undefined],
    ];
    const sealing = { ...SEALING_DEFAULTS } as Record<string, unknown>;
    const sources: Record<string, string> = {};
    for (const key of Object.keys(SEALING_DEFAULTS)) sources[key] = "default";
    for (const [name, layer] of layers) {
      for (const [k, val] of Object.entries(layer ?? {})) {
        if (val === undefined) continue;
        sealing[k] = val;
        sources[k] = name;
      }
    }
    const hotPlan = hot[i]?.plan;
    return {
      index: t.index,
      location: t.location,
      plan: hotPlan ?? t.plan,
      planSource: hotPlan ? "config.toml" : fileThreads[i]?.plan ? "thread" : "default",
      sealing: sealing as SealingSettings,
      sources,
      hotFile: hotFiles[i],
    };
  });
}

function pad(s: string, n: number): string {
  return s.length >= n ? `${s} ` : s + " ".repeat(n - s.length);
}

function processorLine(stage: string, p: ProcessorConfig, i: number): string {
  const parts = [
    `bin=${p.bin ?? "<this executable>"}`,
    `args=${(p.args ?? ["processor", stage]).join(" ")}`,
    `stable_wait=${formatDuration(p.stable_wait)}`,
  ];
  if (p.numa_preferred !== undefined) parts.push(`numa_preferred=${p.numa_preferred}`);
  if (p.cgroup?.cpuset) parts.push(`cpuset=${p.cgroup.cpuset}`);
  if (p.concurrent !== undefined) parts.push(`concurrent=${p.concurrent}`);
  if (p.locks?.length) parts.push(`locks=${p.locks.join(",")}`);
  if (p.envs && Object.keys(p.envs).length > 0)
    parts.push(
      `envs=${Object.entries(p.envs)
        .map(([k, val]) => `${k}=${val}`)
        .join(",")}`,
    );
  parts.push(`auto_restart=${p.auto_restart}`, `inherit_envs=${p.inherit_envs}`);
  return `    #${i} ${parts.join(" ")}`;
}

export function renderWorker(cfg: WorkerConfig, threads: ThreadView[]): string {
  const out: string[] = [];
  const w = cfg.worker;
  out.push("[worker]");
  out.push(`  name              ${w.name ?? "(the local IP used to reach the manager)"}`);
  out.push(`  rpc_server        ${w.rpc_server.host}:${w.rpc_server.port}`);
  out.push(`  ping_interval     ${formatDuration(w.ping_interval)}`);
  if (w.local_pieces_dirs?.length) out.push(`  local_pieces_dirs ${w.local_pieces_dirs.join(", ")}`);
  if (w.plugins_dir) out.push(`  plugins_dir       ${w.plugins_dir}`);
  out.push("[sector_manager]");
  out.push(`  rpc_client.addr   ${cfg.sector_manager.rpc_client.addr} (${cfg.sector_manager.rpcUrl})`);
  // Credentials are only ever shown as set or not: `config check` output gets pasted into issues.
  const headerNames = Object.keys(cfg.sector_manager.rpc_client.headers ?? {});
  if (headerNames.length > 0) out.push(`  rpc_client.headers ${headerNames.join(", ")} (values not shown)`);
  out.push(`  token             ${cfg.sector_manager.token ? "set" : "-"}`);
  out.push(`  piece_token       ${cfg.sector_manager.piece_token ? "set" : "-"}`);
  out.push(`[metrics] enable=${cfg.metrics.enable} http_listen=${cfg.metrics.http_listen}`);
  out.push("");
  for (const t of threads) {
    out.push(
      `sealing thread #${t.index}  location=${t.location ?? "-"}  plan=${t.plan} (${t.planSource})${t.hotFile ? `  hot file: ${t.hotFile}` : ""}`,
    );
    for (const key of Object.keys(SEALING_DEFAULTS)) {
      const value = (t.sealing as Record<string, unknown>)[key];
      out.push(`  ${pad(`sealing.${key}`, 34)}${pad(sealingValue(key, value), 14)}(${t.sources[key]})`);
    }
    out.push("");
  }
  out.push("attached stores");
  if (cfg.attached.length === 0) out.push("  (none: finished sectors have nowhere to go)");
  for (const a of cfg.attached) out.push(`  ${a.name}  location=${a.location}${a.readonly ? " readonly" : ""}`);
  out.push("");
  out.push("processors");
  const { concurrent, staggered } = cfg.processors.limitation;
  const stages = new Set([
    ...Object.keys(cfg.processors.stages),
    ...Object.keys(concurrent),
    ...Object.keys(staggered),
  ]);
  if (stages.size === 0) out.push("  every stage runs in-process (no [[processors.<stage>]] blocks)");
  for (const stage of [...stages].sort()) {
    const entries = cfg.processors.stages[stage] ?? [];
    const limits = [
      concurrent[stage] !== undefined ? `concurrent limit ${concurrent[stage]}` : undefined,
      staggered[stage] !== undefined ? `staggered ${formatDuration(staggered[stage]!)}` : undefined,
    ].filter(Boolean);
    const how =
      entries.length === 0 ? "in-process" : `${entries.length} external processor${entries.length > 1 ? "s" : ""}`;
    out.push(`  ${stage}: ${how}${limits.length ? `; ${limits.join(", ")}` : ""}`);
    for (const [i, p] of entries.entries()) out.push(processorLine(stage, p, i));
  }
  const locks = Object.entries(cfg.processors.ext_locks);
  if (locks.length) out.push(`  ext_locks: ${locks.map(([k, n]) => `${k}=${n}`).join(", ")}`);
  const trees = Object.entries(cfg.processors.static_tree_d);
  if (trees.length) out.push(`  static_tree_d: ${trees.map(([k, p]) => `${k}=${p}`).join(", ")}`);
  return out.join("\n");
}

export function renderManager(cfg: ManagerConfig): string {
  const out: string[] = [];
  const c = cfg.Common;
  out.push(`[Common.DB] Driver=${c.DB.Driver}`);
  out.push(
    `[Common.Proving] ParallelCheckLimit=${c.Proving.ParallelCheckLimit} SingleCheckTimeout=${formatDuration(c.Proving.SingleCheckTimeout)} PartitionCheckTimeout=${formatDuration(c.Proving.PartitionCheckTimeout)} RecordLifetime=${formatDuration(c.Proving.RecordLifetime)}`,
  );
  const wp = c.Proving.WorkerProver;
  out.push(
    `[Common.Proving.WorkerProver] JobMaxTry=${wp.JobMaxTry} HeartbeatTimeout=${formatDuration(wp.HeartbeatTimeout)} JobLifetime=${formatDuration(wp.JobLifetime)}`,
  );
  const d = c.Devnet;
  out.push(
    `[Common.Devnet] BlockTime=${formatDuration(d.BlockTime)} PreCommitChallengeDelay=${d.PreCommitChallengeDelay} SealRandomnessLookback=${d.SealRandomnessLookback} WPoStPeriodDeadlines=${d.WPoStPeriodDeadlines} WPoStChallengeWindow=${d.WPoStChallengeWindow} HistoryLifetime=${formatDuration(d.HistoryLifetime)}`,
  );
  for (const m of d.Miners) out.push(`  devnet miner ${m.Actor} sector size ${formatBytes(m.SectorSize)}`);
  out.push("persist stores");
  if (c.PersistStores.length === 0) out.push("  (none)");
  for (const s of c.PersistStores) {
    out.push(
      `  ${s.Name ?? s.Path}  path=${s.Path} strict=${s.Strict} readonly=${s.ReadOnly} weight=${s.Weight}${s.AllowMiners.length ? ` allow=${s.AllowMiners.join(",")}` : ""}${s.DenyMiners.length ? ` deny=${s.DenyMiners.join(",")}` : ""}`,
    );
  }
  out.push("miners");
  if (cfg.Miners.length === 0) out.push("  (none: nothing will be sealed)");
  for (const m of cfg.Miners) {
    const s = m.Sector;
    out.push(`  actor ${m.Actor}`);
    out.push(
      `    Sector: Enabled=${s.Enabled} InitNumber=${s.InitNumber} MinNumber=${s.MinNumber ?? "-"} MaxNumber=${s.MaxNumber ?? "-"} EnableDeals=${s.EnableDeals} LifetimeDays=${s.LifetimeDays}`,
    );
    for (const kind of ["Pre", "Prove", "Terminate"] as const) {
      const p = m.Commitment[kind];
      out.push(
        `    Commitment.${kind}: Batch.Threshold=${p.Batch.Threshold} Batch.MaxWait=${formatDuration(p.Batch.MaxWait)} Batch.CheckInterval=${formatDuration(p.Batch.CheckInterval)} GasFeeCap=${formatFil(p.GasFeeCap)}`,
      );
    }
    out.push(`    Commitment.Confidence=${m.Commitment.Confidence}`);
    out.push(
      `    PoSt: Enabled=${m.PoSt.Enabled} StrictCheck=${m.PoSt.StrictCheck} ChallengeConfidence=${m.PoSt.ChallengeConfidence} SubmitConfidence=${m.PoSt.SubmitConfidence}`,
    );
    out.push(`    Proof.Enabled=${m.Proof.Enabled} SnapUp.Enabled=${m.SnapUp.Enabled}`);
  }
  return out.join("\n");
}

export function renderExtProver(cfg: ExtProverConfig): string {
  const out: string[] = [];
  for (const kind of ["WdPost", "WinPost"] as const) {
    const entries = cfg[kind];
    out.push(
      `${kind}: ${entries.length === 0 ? "none (proofs run inside the manager)" : `${entries.length} external prover${entries.length > 1 ? "s" : ""}`}`,
    );
    entries.forEach((e, i) => {
      const envs = Object.entries(e.Envs)
        .map(([k, val]) => `${k}=${val}`)
        .join(",");
      out.push(
        `  #${i} bin=${e.Bin ?? "<this executable>"} args=${(e.Args ?? []).join(" ") || "-"} concurrent=${e.Concurrent} weight=${e.Weight} ready_timeout=${e.ReadyTimeoutSecs}s${envs ? ` envs=${envs}` : ""}`,
      );
    });
  }
  return out.join("\n");
}
