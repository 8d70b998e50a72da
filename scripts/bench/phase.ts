/**
 * One measured phase: the load generator (load.ts) pinned to its CPUs against a server process already
 * running on others. The server's and the generator's CPU time are read from /proc at the moments the
 * generator opens and closes its window, so both figures cover exactly the measured calls.
 */
import { join } from "node:path";
import type { LoadConfig, LoadResult } from "./load.ts";
import { readStatTicks, readStatus } from "./proc.ts";

export interface Pinned {
  pid: number;
  /** Cpus_allowed_list of the process, read back after it started. */
  cpus: string;
}

export interface PhaseResult {
  target: "manager" | "bare";
  mode: LoadConfig["mode"];
  load: LoadResult;
  server: Pinned & { cpuPct: number; rssMiB: number; peakRssMiB: number };
  generator: Pinned & { cpuPct: number };
}

export const clockTicks = Number(Bun.spawnSync(["getconf", "CLK_TCK"]).stdout.toString().trim()) || 100;

/** `cmd` restricted to `cpus` with taskset (which execs it: the spawned pid is the command's). */
export const pinned = (cpus: string, cmd: string[]): string[] => ["taskset", "-c", cpus, ...cmd];

/** CPU (% of one core) a process used over `ms` of wall time, and its RSS at the end. */
export async function idleSample(
  pid: number,
  ms: number,
): Promise<{ seconds: number; cpuPct: number; rssMiB: number }> {
  const t0 = performance.now();
  const ticks0 = readStatTicks(pid);
  await Bun.sleep(ms);
  const seconds = (performance.now() - t0) / 1000;
  const cpuPct = ((readStatTicks(pid) - ticks0) / clockTicks / seconds) * 100;
  return { seconds, cpuPct, rssMiB: readStatus(pid).rssKiB / 1024 };
}

export async function runPhase(
  target: PhaseResult["target"],
  serverPid: number,
  loadCpus: string,
  cfg: LoadConfig,
): Promise<PhaseResult> {
  // One connection per thread at saturation: fetch otherwise queues calls above 256 inside the generator.
  const maxRequests = Math.min(65_000, Math.max(256, cfg.threads + Math.ceil(cfg.threads / 32) + 64));
  const gen = Bun.spawn(pinned(loadCpus, [process.execPath, join(import.meta.dir, "load.ts"), JSON.stringify(cfg)]), {
    stdout: "pipe",
    stderr: "inherit",
    env: { ...process.env, BUN_CONFIG_MAX_HTTP_REQUESTS: String(maxRequests) },
  });
  let start: { t: number; server: number; gen: number } | undefined;
  let end: { t: number; server: number; gen: number } | undefined;
  let genCpus = "?";
  let result: LoadResult | undefined;
  const sample = () => ({ t: performance.now(), server: readStatTicks(serverPid), gen: readStatTicks(gen.pid) });
  let buffered = "";
  const decoder = new TextDecoder();
  for await (const chunk of gen.stdout) {
    buffered += decoder.decode(chunk, { stream: true });
    for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      const msg = JSON.parse(line) as { event: string };
      if (msg.event === "window-start") {
        start = sample();
        genCpus = readStatus(gen.pid).cpusAllowed;
      } else if (msg.event === "window-end") end = sample();
      else if (msg.event === "result") result = msg as LoadResult;
    }
  }
  const code = await gen.exited;
  if (!start || !end || !result)
    throw new Error(`load generator (${target}, ${cfg.mode}) exited ${code} without a result`);
  const status = readStatus(serverPid);
  const wallS = (end.t - start.t) / 1000;
  const pct = (ticks: number) => (ticks / clockTicks / wallS) * 100;
  return {
    target,
    mode: cfg.mode,
    load: result,
    server: {
      pid: serverPid,
      cpus: status.cpusAllowed,
      cpuPct: pct(end.server - start.server),
      rssMiB: status.rssKiB / 1024,
      peakRssMiB: status.peakRssKiB / 1024,
    },
    generator: { pid: gen.pid, cpus: genCpus, cpuPct: pct(end.gen - start.gen) },
  };
}
