import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * GPUs as `nvidia-smi` lists them. Absent or failing nvidia-smi is a normal state (CPU-only boxes,
 * containers without the driver): the answer is then "unknown", with the reason, never an exception.
 */

export interface GpuInfo {
  index: number;
  name: string;
  memoryMiB?: number;
}

export interface GpuReport {
  /** Undefined: we could not find out (no nvidia-smi, driver error, dump without a GPU list). */
  gpus: GpuInfo[] | undefined;
  source: string;
  note?: string;
}

export const NVIDIA_SMI_ARGS = ["--query-gpu=index,name,memory.total", "--format=csv,noheader,nounits"] as const;
/** A dump directory (hwinfo --sysfs DIR) may carry the GPU list as the output of that query. */
export const GPU_DUMP_FILE = "nvidia-smi.csv";

/** Lines like "0, NVIDIA GeForce RTX 3090, 24576". Names may contain commas; index and memory never do. */
export function parseNvidiaSmiCsv(text: string): GpuInfo[] {
  const out: GpuInfo[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "") continue;
    const parts = line.split(",").map((s) => s.trim());
    if (parts.length < 2 || !/^\d+$/.test(parts[0]!)) continue;
    const index = Number(parts[0]);
    const last = parts.at(-1)!;
    const hasMem = parts.length >= 3 && /^\d+(\.\d+)?$/.test(last);
    const name = parts.slice(1, hasMem ? -1 : undefined).join(", ");
    out.push({ index, name, ...(hasMem ? { memoryMiB: Number(last) } : {}) });
  }
  return out.sort((a, b) => a.index - b.index);
}

export interface QueryGpusOptions {
  /** PATH to search nvidia-smi in (tests put a fake one first). Defaults to the process PATH; the child keeps the process environment. */
  path?: string;
  /** Read this file instead of running nvidia-smi (a dump of another machine). */
  dumpFile?: string;
  timeoutMs?: number;
}

export function queryGpus(opts: QueryGpusOptions = {}): GpuReport {
  if (opts.dumpFile !== undefined) {
    if (!existsSync(opts.dumpFile)) {
      return {
        gpus: undefined,
        source: opts.dumpFile,
        note: `GPUs unknown: ${opts.dumpFile} not found (save \`nvidia-smi ${NVIDIA_SMI_ARGS.join(" ")}\` there)`,
      };
    }
    return { gpus: parseNvidiaSmiCsv(readFileSync(opts.dumpFile, "utf8")), source: opts.dumpFile };
  }
  const PATH = opts.path ?? process.env.PATH ?? "";
  const exe = Bun.which("nvidia-smi", { PATH });
  if (!exe) return { gpus: undefined, source: "nvidia-smi", note: "GPUs unknown: nvidia-smi not found on PATH" };
  let r: ReturnType<typeof Bun.spawnSync>;
  try {
    r = Bun.spawnSync([exe, ...NVIDIA_SMI_ARGS], {
      stdout: "pipe",
      stderr: "pipe",
      timeout: opts.timeoutMs ?? 10_000,
    });
  } catch (err) {
    return { gpus: undefined, source: exe, note: `GPUs unknown: ${exe} could not be run (${(err as Error).message})` };
  }
  if (r.exitCode !== 0) {
    // nvidia-smi prints its reason (driver/library mismatch, no devices) on stdout or stderr.
    const why =
      `${r.stderr?.toString() ?? ""}\n${r.stdout?.toString() ?? ""}`.trim().split("\n")[0] ||
      `exit ${r.exitCode ?? r.signalCode}`;
    return { gpus: undefined, source: exe, note: `GPUs unknown: nvidia-smi failed: ${why}` };
  }
  return { gpus: parseNvidiaSmiCsv(r.stdout?.toString() ?? ""), source: exe };
}

/** GPUs for a machine given as a sysfs root: the running machine asks nvidia-smi, a dump is read from its file. */
export function gpusFor(sysfsRoot: string, opts: Omit<QueryGpusOptions, "dumpFile"> = {}): GpuReport {
  return sysfsRoot === "/sys" ? queryGpus(opts) : queryGpus({ ...opts, dumpFile: join(sysfsRoot, GPU_DUMP_FILE) });
}
