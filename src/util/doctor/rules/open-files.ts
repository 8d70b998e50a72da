import type { ExtProverConfig, ManagerConfig } from "../../../core/config/index.ts";
import type { DoctorContext } from "../context.ts";
import type { OpenFileLimit } from "../types.ts";

/** Below this, a WindowPoSt over a full partition set runs out of descriptors (seed 000 advises "unlimited"). */
export const MIN_OPEN_FILES = 65536;

type Keys = (string | number)[];
export type Warn = (keys: Keys, message: string) => void;

const show = (n: number) => (Number.isFinite(n) ? String(n) : "unlimited");

/**
 * Every damocles daemon and processor child raises its soft limit to the hard one at start
 * (core/proofs/limits.ts), so the hard limit is what a proof gets: a low soft limit alone is no problem.
 * Undefined when the limit is enough (or unknown); otherwise the finding's message.
 */
function lowLimitMessage(limit: OpenFileLimit | undefined, who: string, runs: string): string | undefined {
  if (!limit || limit.hard >= MIN_OPEN_FILES) return undefined;
  return (
    `the open-file limit is ${show(limit.hard)} (hard; soft ${show(limit.soft)}, as read for this check; damocles raises the soft limit to the hard one at start) ` +
    `and ${runs}, which opens several files per sector: a deadline with many sectors fails with "Too many open files (os error 24)". ` +
    `Fix: raise it for ${who} to at least ${MIN_OPEN_FILES}, e.g. LimitNOFILE=1048576 in its systemd unit or \`ulimit -n 1048576\` (as root) before starting it.`
  );
}

/**
 * Rule 6 (open files): a worker that runs WindowPoSt opens several files per sector; with a low
 * limit the proof fails with "Too many open files (os error 24)".
 */
export function openFilesRule(ctx: DoctorContext): void {
  const wdThread = ctx.config.threads.find((t) => t.plan === "wdpost");
  const wdProcs = ctx.config.processors.stages.window_post ?? [];
  if (!wdThread && wdProcs.length === 0) return;
  const message = lowLimitMessage(ctx.facts.openFiles, "the worker", "this worker runs WindowPoSt");
  if (!message) return;
  ctx.warn(wdThread ? ["sealing_thread", wdThread.index, "plan"] : ["processors", "window_post"], message);
}

/**
 * The same for a manager file (sector-manager.cfg), which `manager run --poster` and `poster run` both read:
 * WindowPoSt for its [[Miners]] with PoSt.Enabled (the default) runs in that daemon, or in the ext-prover
 * children it starts, which inherit its limit.
 */
export function managerOpenFilesRule(
  config: ManagerConfig,
  limit: OpenFileLimit | undefined,
  warn: Warn,
  has: (keys: Keys) => boolean,
): void {
  const proving = config.Miners.map((m, i) => ({ m, i })).filter(({ m }) => m.PoSt.Enabled);
  const first = proving[0];
  if (!first) return;
  const actors = `miner${proving.length === 1 ? "" : "s"} ${proving.map(({ m }) => m.Actor).join(", ")}`;
  const message = lowLimitMessage(
    limit,
    "the manager or poster",
    `a manager run with --poster, or a poster run, proves WindowPoSt for ${actors} (PoSt.Enabled) in its own process or its ext-prover children (unless --worker-prover)`,
  );
  if (!message) return;
  const enabled = ["Miners", first.i, "PoSt", "Enabled"];
  warn(has(enabled) ? enabled : ["Miners", first.i, "Actor"], message);
}

/** And for ext-prover.cfg: its [[WdPost]] processors are children of the manager or poster and share its limit. */
export function extProverOpenFilesRule(config: ExtProverConfig, limit: OpenFileLimit | undefined, warn: Warn): void {
  if (config.WdPost.length === 0) return;
  const message = lowLimitMessage(
    limit,
    "the manager or poster that starts them",
    `the ${config.WdPost.length} [[WdPost]] processor${config.WdPost.length === 1 ? "" : "s"} run WindowPoSt`,
  );
  if (message) warn(["WdPost", 0], message);
}
