import type { DoctorContext } from "../context.ts";

/** Below this, a WindowPoSt over a full partition set runs out of descriptors (seed 000 advises "unlimited"). */
export const MIN_OPEN_FILES = 65536;

/**
 * Rule 6 (open files): a worker that runs WindowPoSt opens several files per sector; with a low
 * `ulimit -n` the proof fails with "Too many open files (os error 24)".
 */
export function openFilesRule(ctx: DoctorContext): void {
  const limit = ctx.facts.openFiles;
  if (!limit || limit.soft >= MIN_OPEN_FILES) return;
  const wdThread = ctx.config.threads.find((t) => t.plan === "wdpost");
  const wdProcs = ctx.config.processors.stages.window_post ?? [];
  if (!wdThread && wdProcs.length === 0) return;
  const keys = wdThread ? ["sealing_thread", wdThread.index, "plan"] : ["processors", "window_post"];
  ctx.warn(
    keys,
    `the open-file limit is ${limit.soft} (soft; hard ${Number.isFinite(limit.hard) ? limit.hard : "unlimited"}, as read for this check) and this worker runs WindowPoSt, which opens several files per sector: ` +
      `a deadline with many sectors fails with "Too many open files (os error 24)". ` +
      `Fix: raise it for the worker to at least ${MIN_OPEN_FILES}, e.g. LimitNOFILE=1048576 in its systemd unit or \`ulimit -n 1048576\` before starting it.`,
  );
}
