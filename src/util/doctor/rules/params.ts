import { sectorSizeName } from "../../../core/config/index.ts";
import type { DoctorContext } from "../context.ts";
import type { ParamFileStatus, ParamReport } from "../types.ts";

/**
 * Rule 6 (parameters): proof parameter files missing, empty, cut short or corrupt for the sector sizes
 * this worker takes. Seed 000: an empty file gives "memory map must have a non-zero length"; a missing
 * one "No cached parameters found".
 */
export function paramsRule(ctx: DoctorContext): void {
  const reports = ctx.facts.params;
  if (!reports) return;
  const { sizes, keys: sizeKeys } = allowedSizes(ctx);
  // The worker takes any size without allowed_sizes; which parameters it will need is then unknown.
  if (sizes.length === 0) return;
  const sizeWords = sizes.map(sectorSizeName).join(", ");
  for (const r of reports) {
    const keys = r.keys ?? sizeKeys;
    const where = `${r.cacheDir} (${r.origin})`;
    const byStatus = (s: ParamFileStatus["status"]) => r.files.filter((f) => f.status === s);
    // The check's own command where it has one (locally generated devnet sizes); published sizes are fetched.
    const fix = (files: ParamFileStatus[], action: string) => {
      const steps = [...new Set(files.map((f) => f.fix).filter((c): c is string => c !== undefined))];
      const rest = files.filter((f) => f.fix === undefined);
      if (rest.length > 0) {
        steps.push(
          `fetch the parameters for ${sizesOf(rest, sizeWords)} into ${r.cacheDir} (or set FIL_PROOFS_PARAMETER_CACHE to the directory that holds them)`,
        );
      }
      return `Fix: ${action}${steps.join("; ")}.`;
    };

    const missing = byStatus("missing");
    if (missing.length > 0) {
      const what = r.exact
        ? `${count(missing)} missing from ${where}: ${names(missing)}`
        : `no proof parameters in ${where}`;
      ctx.error(
        keys,
        `${what}; ${tasksOf(missing, sizeWords)} fail with "No cached parameters found". ${fix(missing, "")}`,
      );
    }
    const empty = byStatus("empty");
    if (empty.length > 0) {
      ctx.error(
        keys,
        `${count(empty)} in ${where} ${empty.length === 1 ? "is" : "are"} empty (0 bytes): ${names(empty)}; the proofs library maps them into memory and fails with ` +
          `"memory map must have a non-zero length". ${fix(empty, `delete ${it(empty)}, then `)}`,
      );
    }
    const broken = [...byStatus("truncated"), ...byStatus("corrupt")];
    if (broken.length > 0) {
      ctx.error(
        keys,
        `${count(broken)} in ${where} ${broken.length === 1 ? "is" : "are"} damaged (an interrupted or mixed-up download): ${names(broken, true)}; ` +
          `loading ${it(broken)} fails and every proof that needs ${it(broken)} errors out. ${fix(broken, `delete ${it(broken)}, then `)}`,
      );
    }
  }
}

/** Sizes from `[sealing] allowed_sizes` and every thread's `sealing.allowed_sizes`, with the key that names the first. */
export function allowedSizes(ctx: DoctorContext): { sizes: number[]; keys: (string | number)[] } {
  const sizes = new Set<number>();
  let keys: (string | number)[] = [];
  for (const s of ctx.config.sealing.allowed_sizes ?? []) sizes.add(s);
  if (sizes.size > 0) keys = ["sealing", "allowed_sizes"];
  for (const t of ctx.config.threads) {
    for (const s of t.sealing.allowed_sizes ?? []) sizes.add(s);
    if (keys.length === 0 && ctx.has(["sealing_thread", t.index, "sealing", "allowed_sizes"]))
      keys = ["sealing_thread", t.index, "sealing", "allowed_sizes"];
  }
  return { sizes: [...sizes].sort((a, b) => a - b), keys };
}

function it(files: ParamFileStatus[]): string {
  return files.length === 1 ? "it" : "them";
}

function count(files: ParamFileStatus[]): string {
  return `${files.length} parameter file${files.length === 1 ? "" : "s"}`;
}

function names(files: ParamFileStatus[], withDetail = false): string {
  const shown = files.slice(0, 3).map((f) => {
    if (!withDetail) return f.file;
    if (f.actualBytes !== undefined && f.expectedBytes !== undefined)
      return `${f.file} (${f.actualBytes} of ${f.expectedBytes} bytes)`;
    return f.detail ? `${f.file} (${f.detail})` : f.file;
  });
  return files.length > 3 ? `${shown.join(", ")} and ${files.length - 3} more` : shown.join(", ");
}

function sizesOf(files: ParamFileStatus[], fallback: string): string {
  const s = [...new Set(files.map((f) => f.sectorSize).filter((x): x is number => x !== undefined))].sort(
    (a, b) => a - b,
  );
  return s.length > 0 ? s.map(sectorSizeName).join(", ") : fallback;
}

/** "window-post proofs for 32GiB" or "sealing and proving tasks for 32GiB". */
function tasksOf(files: ParamFileStatus[], fallback: string): string {
  const circuits = [...new Set(files.map((f) => f.circuit).filter((c): c is string => c !== undefined))];
  const what = circuits.length > 0 ? `${circuits.join(", ")} proofs` : "sealing and proving tasks";
  return `${what} for ${sizesOf(files, fallback)}`;
}

export type { ParamReport };
