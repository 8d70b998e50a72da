import { homedir } from "node:os";
import { join, resolve } from "node:path";
import type { ConfigDiagnostic, WorkerConfig } from "../../core/config/index.ts";
import { gpusFor } from "../hwinfo/gpus.ts";
import { readTopology } from "../hwinfo/topology.ts";
import { diagnoseWorker } from "./diagnose.ts";
import { readOpenFileLimit, realFsProbe, scanParamDir } from "./probes.ts";
import { proofsParamCheck } from "./proofs-params.ts";
import type { DoctorFacts, FsProbe, OpenFileLimit, ParamCheck, ParamReport } from "./types.ts";

/**
 * Gathers the machine facts the doctor judges with, then runs it. Hardware (CPU topology, GPUs) comes
 * from `sysfs` — the running machine, or a dump of the worker's machine; files (bins, stores,
 * parameters) and the open-file limit are always those of the machine running the check, which is
 * meant to be the worker's host.
 */
export interface RunDoctorOptions {
  /** sysfs root; "/sys" (default) is this machine. */
  sysfs?: string;
  /** Per-size parameter check; default: the proofs module's. null: only scan the directory. */
  paramCheck?: ParamCheck | null;
  /** Environment for FIL_PROOFS_PARAMETER_CACHE and PATH (defaults to this process's). */
  env?: Record<string, string | undefined>;
  fs?: FsProbe;
  /** null: do not check the limit. */
  openFiles?: OpenFileLimit | null;
}

/** Where the proofs read parameters (the rule of core/proofs' defaultParamsDir, applied to `env`). */
export function defaultParamDir(env: Record<string, string | undefined>): string {
  const own = env.FIL_PROOFS_PARAMETER_CACHE;
  if (own && own.trim() !== "") return resolve(own);
  return join(env.DAMOCLES_CACHE ?? join(homedir(), ".cache", "damocles"), "params");
}

/** The parameter directories the worker's proofs will read: its own, and any a processor's envs picks. */
export function paramDirs(
  config: WorkerConfig,
  env: Record<string, string | undefined>,
): Omit<ParamReport, "files" | "exact">[] {
  const own = env.FIL_PROOFS_PARAMETER_CACHE;
  const out: Omit<ParamReport, "files" | "exact">[] = [
    {
      cacheDir: defaultParamDir(env),
      origin:
        own && own.trim() !== "" ? "FIL_PROOFS_PARAMETER_CACHE" : "default; FIL_PROOFS_PARAMETER_CACHE is not set",
    },
  ];
  for (const [stage, list] of Object.entries(config.processors.stages)) {
    list.forEach((p, i) => {
      const dir = p.envs?.FIL_PROOFS_PARAMETER_CACHE;
      if (!dir || out.some((o) => o.cacheDir === resolve(dir))) return;
      out.push({
        cacheDir: resolve(dir),
        origin: `FIL_PROOFS_PARAMETER_CACHE in processors.${stage}[${i}].envs`,
        keys: ["processors", stage, i, "envs", "FIL_PROOFS_PARAMETER_CACHE"],
      });
    });
  }
  return out;
}

/** The SNARK circuits this worker proves with, from its plans and processors (unseal and rebuild need none). */
export function circuitsFor(config: WorkerConfig): string[] {
  const need = new Set<string>();
  for (const t of config.threads) {
    if (t.plan === "sealer") need.add("porep");
    if (t.plan === "snapup") need.add("empty-sector-update");
    if (t.plan === "wdpost") need.add("window-post");
  }
  const has = (stage: string) => (config.processors.stages[stage]?.length ?? 0) > 0;
  if (has("c2")) need.add("porep");
  if (has("snap_prove")) need.add("empty-sector-update");
  if (has("window_post")) need.add("window-post");
  if (has("winning_post")) need.add("winning-post");
  return ["porep", "winning-post", "window-post", "empty-sector-update"].filter((c) => need.has(c));
}

function allowedSizes(config: WorkerConfig): number[] {
  const sizes = new Set<number>([
    ...(config.sealing.allowed_sizes ?? []),
    ...config.threads.flatMap((t) => t.sealing.allowed_sizes ?? []),
  ]);
  return [...sizes].sort((a, b) => a - b);
}

export async function gatherFacts(config: WorkerConfig, opts: RunDoctorOptions = {}): Promise<DoctorFacts> {
  const sysfs = opts.sysfs ?? "/sys";
  const env = opts.env ?? process.env;
  const fs = opts.fs ?? realFsProbe(env);
  const topology = readTopology(sysfs);
  const gpus = gpusFor(sysfs, env.PATH !== undefined ? { path: env.PATH } : {}).gpus;
  const openFiles = opts.openFiles === null ? undefined : (opts.openFiles ?? readOpenFileLimit());

  // The rule is about the sizes the worker accepts; without allowed_sizes there is nothing specific to check.
  const sizes = allowedSizes(config);
  const circuits = circuitsFor(config);
  const check = opts.paramCheck === null ? undefined : (opts.paramCheck ?? proofsParamCheck);
  let params: ParamReport[] | undefined;
  if (sizes.length > 0 && circuits.length > 0) {
    params = [];
    for (const d of paramDirs(config, env)) {
      const exact = check ? await check({ cacheDir: d.cacheDir, sectorSizes: sizes, circuits }) : undefined;
      params.push({ ...d, files: exact ?? scanParamDir(d.cacheDir), exact: exact !== undefined });
    }
  }
  return {
    topology,
    gpus,
    machine: sysfs === "/sys" ? "this machine" : `the machine in ${sysfs}`,
    ...(openFiles ? { openFiles } : {}),
    ...(params ? { params } : {}),
    fs,
  };
}

export async function runDoctor(
  input: { file: string; text?: string; config: WorkerConfig },
  opts: RunDoctorOptions = {},
): Promise<ConfigDiagnostic[]> {
  const facts = await gatherFacts(input.config, opts);
  return diagnoseWorker({ ...input, facts });
}
