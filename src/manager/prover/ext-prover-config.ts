import type { ConfigDiagnostic } from "../../core/config/diagnostics.ts";
import { expandHome } from "../../core/config/expand-home.ts";
import type { ExtProverConfig, ExtProverEntryConfig } from "../../core/config/ext-prover.ts";
import { loadExtProverConfig } from "../../core/config/load.ts";
import { keyLines } from "../../core/config/toml.ts";
import type { ChildSpec } from "../../core/processor/producer.ts";

/** The two kinds of ext-prover.cfg entries and the processor stage each one serves. */
export const EXT_PROVER_KINDS = {
  window: { section: "WdPost", stage: "window_post" },
  winning: { section: "WinPost", stage: "winning_post" },
} as const;
export type ExtProverKind = keyof typeof EXT_PROVER_KINDS;

export interface ExtProverFile {
  file: string;
  config: ExtProverConfig;
  /** Key path ("WdPost.0") → line, so start-up errors can point at the entry. */
  lines: Map<string, number>;
  warnings: ConfigDiagnostic[];
}

/** Loads and validates ext-prover.cfg; a bad file throws ConfigError with file:line for each problem. */
export async function readExtProverFile(path: string): Promise<ExtProverFile> {
  const loaded = await loadExtProverConfig(path);
  const lines = keyLines(await Bun.file(path).text());
  return { file: loaded.file, config: loaded.value, lines, warnings: loaded.warnings };
}

/** One child to start, with everything needed to name its entry in a message. */
export interface ExtProverChildPlan {
  kind: ExtProverKind;
  index: number;
  /** `ext-prover.cfg:3 [[WdPost]] #0`: where an operator fixes this child. */
  entry: string;
  /** The program, for logs: Bin, or this executable. */
  program: string;
  spec: ChildSpec;
  concurrent: number;
  weight: number;
  readyTimeoutSecs: number;
}

export interface PlanOptions {
  /** How to run this damocles executable (selfCommand()); used when an entry has no Bin. */
  self: readonly string[];
  /** Environment every child starts from (the manager's own, as the Go manager passes os.Environ()). */
  baseEnv: Record<string, string>;
  /** Delay before restarting a child that exited (producer default: 3s). */
  restartDelayMs?: number;
}

/**
 * Child specs for one kind. Without `Bin` a child is this executable running `processor <stage>` (Args, if
 * given, replace those arguments, as for the worker's [[processors.<stage>]]); with `Bin` it is
 * `Bin Args…`. `Envs` are added to the manager's environment. A child that exits is restarted.
 */
export function planExtProverChildren(
  kind: ExtProverKind,
  file: ExtProverFile,
  opts: PlanOptions,
): ExtProverChildPlan[] {
  const { section, stage } = EXT_PROVER_KINDS[kind];
  const entries: readonly ExtProverEntryConfig[] = file.config[section];
  return entries.map((e, index) => {
    const line = file.lines.get(`${section}.${index}`);
    const command = e.Bin
      ? [expandHome(e.Bin), ...(e.Args ?? [])]
      : [...opts.self, ...(e.Args ?? ["processor", stage])];
    return {
      kind,
      index,
      entry: `${file.file}${line === undefined ? "" : `:${line}`} [[${section}]] #${index}`,
      program: e.Bin ?? opts.self.join(" "),
      spec: {
        stage,
        index,
        command,
        env: { ...opts.baseEnv, ...e.Envs },
        stableWaitMs: e.ReadyTimeoutSecs * 1000,
        autoRestart: true,
        restartDelayMs: opts.restartDelayMs,
      },
      concurrent: e.Concurrent,
      weight: e.Weight,
      readyTimeoutSecs: e.ReadyTimeoutSecs,
    };
  });
}

/** The manager's environment as a plain string map (Bun.spawn takes no undefined values). */
export function processEnv(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter((kv): kv is [string, string] => kv[1] !== undefined));
}
