import { type DoctorContext, envOf, listWords, type ProcessorRef } from "../context.ts";
import { isRemoteProxy } from "../proxy.ts";

/**
 * Rule 3 (GPUs): processors of one stage pinned to the same GPU while another GPU idles (seed 000's
 * "one GPU stays idle all the time"), CUDA_VISIBLE_DEVICES naming a GPU the machine lacks, and
 * processors of different stages sharing a GPU with no ext_lock between them.
 */

/** Stages whose builtin processors put work on a GPU. */
const GPU_STAGES = new Set(["pc2", "c2", "snap_encode", "snap_prove", "window_post", "winning_post"]);
/** Env keys other than CUDA_VISIBLE_DEVICES that pick a device (seed 002's BELLMAN_GPU_INDEXS). */
const DEVICE_PICKER = /(INDEX|INDEXS|INDICES|ORDINAL)$/i;

function devices(value: string): string[] {
  return value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

export function gpuRule(ctx: DoctorContext): void {
  const withCuda = ctx.processors.filter(
    (p) => envOf(p.proc, "CUDA_VISIBLE_DEVICES") !== undefined && !isRemoteProxy(p.proc),
  );
  const gpus = ctx.facts.gpus;
  const named = new Set(withCuda.flatMap((p) => devices(envOf(p.proc, "CUDA_VISIBLE_DEVICES")!)));
  const idle = gpus?.filter((g) => !named.has(String(g.index))) ?? [];

  // Same stage, same devices.
  const byStage = new Map<string, ProcessorRef[]>();
  for (const p of withCuda) byStage.set(p.stage, [...(byStage.get(p.stage) ?? []), p]);
  for (const [stage, refs] of byStage) {
    const byValue = new Map<string, ProcessorRef[]>();
    for (const r of refs) {
      const key = devices(envOf(r.proc, "CUDA_VISIBLE_DEVICES")!).join(",");
      byValue.set(key, [...(byValue.get(key) ?? []), r]);
    }
    const stageNamed = new Set(refs.flatMap((r) => devices(envOf(r.proc, "CUDA_VISIBLE_DEVICES")!)));
    for (const [value, group] of byValue) {
      if (group.length < 2 || value === "") continue;
      // Known GPUs all in use: sharing one is a choice (seed 002's two WindowPoSt jobs on one card), not a mistake.
      if (gpus && idle.length === 0) continue;
      const differing = differingEntries(group);
      if (idle.length === 0 && differing.length === 0) continue;
      const first = group[0]!;
      const why =
        differing.length > 0
          ? `while their ${listWords(differing)} differ, as if they were meant for different GPUs`
          : `while ${ctx.facts.machine} has GPU${idle.length === 1 ? "" : "s"} ${idle.map((g) => `#${g.index}`).join(", ")} that no processor uses`;
      let next = idle[0]?.index;
      for (const r of group.slice(1)) {
        if (next === undefined) {
          next = 0;
          while (stageNamed.has(String(next))) next++;
        }
        ctx.warn(
          [...r.keys, "envs", "CUDA_VISIBLE_DEVICES"],
          `${r.name} sets CUDA_VISIBLE_DEVICES = "${value}" like ${first.name} ${why}: ${group.length === 2 ? "both" : `all ${group.length}`} ${stage} processors see only GPU ${value} and run on it, ` +
            `so the other GPU stays idle ("one GPU stays idle all the time"). Fix: CUDA_VISIBLE_DEVICES = "${next}" for ${r.name}.`,
        );
        stageNamed.add(String(next));
        next = undefined;
      }
    }
  }

  // Devices the machine does not have.
  if (gpus) {
    const have = new Set(gpus.map((g) => String(g.index)));
    for (const r of withCuda) {
      const value = envOf(r.proc, "CUDA_VISIBLE_DEVICES")!;
      const unknown = devices(value).filter((d) => /^\d+$/.test(d) && !have.has(d));
      if (unknown.length === 0) continue;
      const list =
        gpus.length === 0
          ? "lists no GPU"
          : `lists GPU${gpus.length === 1 ? "" : "s"} ${gpus.map((g) => g.index).join(", ")}`;
      ctx.warn(
        [...r.keys, "envs", "CUDA_VISIBLE_DEVICES"],
        `CUDA_VISIBLE_DEVICES = "${value}" names GPU ${unknown.join(", ")}, but nvidia-smi on ${ctx.facts.machine} ${list}: ` +
          `CUDA stops reading the list at an unknown index, so the processor sees fewer GPUs than planned or none ("no CUDA-capable device is detected") and falls back to the CPU or fails. ` +
          `Fix: name GPUs from nvidia-smi's index column (damocles util hwinfo).`,
      );
    }
  }

  // Different stages on one GPU with no lock making them take turns.
  const gpuRefs = withCuda.filter((r) => GPU_STAGES.has(r.stage));
  for (let j = 0; j < gpuRefs.length; j++) {
    const b = gpuRefs[j]!;
    for (let i = 0; i < j; i++) {
      const a = gpuRefs[i]!;
      if (a.stage === b.stage) continue;
      const shared = devices(envOf(a.proc, "CUDA_VISIBLE_DEVICES")!).filter((d) =>
        devices(envOf(b.proc, "CUDA_VISIBLE_DEVICES")!).includes(d),
      );
      if (shared.length === 0) continue;
      const locksA = new Set(a.proc.locks ?? []);
      if ((b.proc.locks ?? []).some((l) => locksA.has(l) && ctx.config.processors.ext_locks[l] !== undefined)) continue;
      const lock = `gpu${shared[0]}`;
      ctx.warn(
        [...b.keys, "envs", "CUDA_VISIBLE_DEVICES"],
        `${b.name} and ${a.name} both use GPU ${shared.join(", ")} and share no ext_lock, so a ${b.stage} and a ${a.stage} task can run on it at the same time ` +
          `and exhaust its memory ("CUDA out of memory"). Fix: [processors.ext_locks] ${lock} = 1, and locks = ["${lock}"] on both processors.`,
      );
    }
  }
}

/** The entries (besides CUDA_VISIBLE_DEVICES) that tell processors apart as if they had their own devices. */
function differingEntries(group: ProcessorRef[]): string[] {
  const out: string[] = [];
  const locks = new Set(group.map((r) => [...(r.proc.locks ?? [])].sort().join(",")));
  if (locks.size > 1)
    out.push(`locks (${[...locks].map((l) => (l === "" ? "none" : l.split(",").join("+"))).join(", ")})`);
  const pickers = new Set(group.flatMap((r) => Object.keys(r.proc.envs ?? {}).filter((k) => DEVICE_PICKER.test(k))));
  for (const k of pickers) {
    const values = new Set(group.map((r) => envOf(r.proc, k) ?? ""));
    if (values.size > 1) out.push(`${k} values`);
  }
  return out;
}
