import { basename, join, resolve } from "node:path";
import * as v from "valibot";
import { type ConfigDiagnostic, ConfigError, displayPath, issuesToDiagnostics, lineFor } from "./diagnostics.ts";
import { type ExtProverConfig, ExtProverFileSchema } from "./ext-prover.ts";
import { parseRpcAddr } from "./fields.ts";
import { type ManagerConfig, ManagerFileSchema, managerCrossChecks } from "./manager.ts";
import { keyLines, parseToml, TomlSyntaxError } from "./toml.ts";
import { closest, findUnknownKeys, type UnknownKeyOptions } from "./unknown-keys.ts";
import {
  BUILTIN_STAGES,
  mergeSealing,
  type ThreadHotConfig,
  ThreadHotConfigSchema,
  type WorkerConfig,
  type WorkerFile,
  WorkerFileSchema,
} from "./worker.ts";

export const CONFIG_KINDS = ["worker", "manager", "ext-prover", "thread"] as const;
export type ConfigKind = (typeof CONFIG_KINDS)[number];

export interface Loaded<T> {
  file: string;
  value: T;
  /** Unknown keys, legacy forms: the file loads, but the operator should look. */
  warnings: ConfigDiagnostic[];
}

interface KindSpec<S extends v.GenericSchema> {
  schema: S;
  hints?: Record<string, string>;
  restKey?: UnknownKeyOptions["restKey"];
}

const WORKER_HINTS: Record<string, string> = {
  attached_selection: "not used by damocles",
};

const SPECS = {
  worker: {
    schema: WorkerFileSchema,
    hints: WORKER_HINTS,
    restKey: (path: (string | number)[], key: string) => {
      if (path.join(".") !== "processors" || (BUILTIN_STAGES as readonly string[]).includes(key)) return undefined;
      const guess = closest(key, BUILTIN_STAGES);
      return guess
        ? `unknown stage "${key}" — did you mean "${guess}"? (only a plugin providing "${key}" would use these processors)`
        : `stage "${key}" is not built in; these processors are used only if a plugin provides "${key}"`;
    },
  },
  manager: { schema: ManagerFileSchema },
  "ext-prover": { schema: ExtProverFileSchema },
  thread: {
    schema: ThreadHotConfigSchema,
    hints: { location: "a thread's hot config.toml cannot change its location" },
  },
} satisfies Record<ConfigKind, KindSpec<v.GenericSchema>>;

type Output<K extends ConfigKind> = v.InferOutput<(typeof SPECS)[K]["schema"]>;

/**
 * Parse and validate config text of one kind. Throws ConfigError with every problem (syntax or schema),
 * each naming file, line, key path, bad value and expectation; returns warnings for keys it ignored.
 */
export function parseConfigText<K extends ConfigKind>(kind: K, text: string, file: string): Loaded<Output<K>> {
  let raw: Record<string, unknown>;
  try {
    raw = parseToml(text, file);
  } catch (err) {
    if (err instanceof TomlSyntaxError) {
      throw new ConfigError([
        { severity: "error", file, line: err.line, path: "", message: `invalid TOML: ${err.reason}` },
      ]);
    }
    throw err;
  }
  const spec: KindSpec<v.GenericSchema> = SPECS[kind];
  const lines = keyLines(text);
  const warnings = findUnknownKeys(spec.schema, raw, { file, lines, hints: spec.hints, restKey: spec.restKey });
  const result = v.safeParse(spec.schema, raw);
  if (!result.success) {
    throw new ConfigError([...issuesToDiagnostics(result.issues, file, lines), ...warnings]);
  }
  const value = result.output as Output<K>;
  if (kind === "worker" && raw.remote_store !== undefined) {
    warnings.push({
      severity: "warning",
      file,
      line: lines.get("remote_store"),
      path: "remote_store",
      message:
        "legacy single persist store: read as one more attached store; write it as [[attached]] (name, location, readonly)",
    });
  }
  if (kind === "manager") {
    const problems = managerCrossChecks(value as ManagerConfig);
    if (problems.length > 0) {
      throw new ConfigError(
        problems.map(([keys, message]) => ({
          severity: "error",
          file,
          line: lineFor(lines, keys),
          path: displayPath(keys),
          message,
        })),
      );
    }
  }
  return { file, value, warnings };
}

export async function readConfigFile<K extends ConfigKind>(kind: K, path: string): Promise<Loaded<Output<K>>> {
  const f = Bun.file(path);
  if (!(await f.exists())) {
    throw new ConfigError([{ severity: "error", file: path, path: "", message: "file not found" }]);
  }
  return parseConfigText(kind, await f.text(), path);
}

/** Guess a file's kind from its name, then from its top-level tables. */
export function detectKind(path: string, text: string): ConfigKind | undefined {
  const name = basename(path);
  if (name === "sector-manager.cfg") return "manager";
  if (name === "ext-prover.cfg") return "ext-prover";
  if (/^\s*\[\[?(Common|Miners)\b/m.test(text)) return "manager";
  if (/^\s*\[\[(WdPost|WinPost)\]\]/m.test(text)) return "ext-prover";
  if (/^\s*\[(sector_manager|worker|sealing|processors)\b|^\s*\[\[(sealing_thread|attached|processors\.)/m.test(text))
    return "worker";
  if (name === "config.toml" && /^\s*(plan|sealing\.)/m.test(text)) return "thread";
  if (name.endsWith(".toml")) return "worker";
  return undefined;
}

/** Worker file → the resolved configuration every part of the worker reads. */
export function resolveWorkerConfig(file: WorkerFile): WorkerConfig {
  const rpcUrl = parseRpcAddr(file.sector_manager.rpc_client.addr);
  if (!rpcUrl) throw new Error("unreachable: rpc addr validated by schema");
  const attachedEntries = [...file.attached, ...(file.remote_store ? [file.remote_store] : [])];
  const { limit, limitation, ext_locks, static_tree_d, ...stageEntries } = file.processors;
  return {
    worker: {
      ...file.worker,
      local_pieces_dirs: [
        ...(file.worker.local_pieces_dirs ?? []),
        ...(file.worker.local_pieces_dir ? [file.worker.local_pieces_dir] : []),
      ],
    },
    metrics: file.metrics,
    sector_manager: { ...file.sector_manager, rpcUrl },
    sealing: file.sealing,
    threads: file.sealing_thread.map((t, index) => ({
      index,
      location: t.location === undefined ? undefined : resolve(t.location),
      plan: t.plan ?? "sealer",
      sealing: mergeSealing(file.sealing, t.sealing),
    })),
    attached: attachedEntries.map((a) => ({
      name: a.name ?? resolve(a.location),
      location: resolve(a.location),
      readonly: a.readonly,
    })),
    processors: {
      // The legacy `processors.limit` table still counts, under the newer limitation.concurrent.
      limitation: { concurrent: { ...limit, ...limitation.concurrent }, staggered: limitation.staggered },
      ext_locks,
      static_tree_d,
      stages: stageEntries,
    },
  };
}

export async function loadWorkerConfig(path: string): Promise<Loaded<WorkerConfig>> {
  const loaded = await readConfigFile("worker", path);
  return { ...loaded, value: resolveWorkerConfig(loaded.value) };
}

export async function loadManagerConfig(path: string): Promise<Loaded<ManagerConfig>> {
  return readConfigFile("manager", path);
}

export async function loadExtProverConfig(path: string): Promise<Loaded<ExtProverConfig>> {
  return readConfigFile("ext-prover", path);
}

/** `<location>/config.toml`, re-read before each new sector; undefined when the thread has none. */
export async function loadThreadHotConfig(location: string): Promise<Loaded<ThreadHotConfig> | undefined> {
  const path = join(location, "config.toml");
  if (!(await Bun.file(path).exists())) return undefined;
  return readConfigFile("thread", path);
}
