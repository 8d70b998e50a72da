/**
 * The load generator: K simulated sealing threads (sealer-thread.ts) against one JSON-RPC endpoint, run as
 * its own process so bench-manager can pin it to other CPUs than the server. Two modes:
 *  - saturation: each thread sends its next call as soon as the previous one answered (chain polls 500 ms);
 *  - paced: the original worker's pacing (seal_interval, rpc_polling_interval). The threads are first
 *    brought, as fast as the server allows, to the point of the sealing cycle their index puts them at
 *    (start phases spread evenly over one cycle), then the window opens and every thread runs at real
 *    pacing from there: the window sees the steady state at once, without a thundering herd.
 * Protocol on stdout, one JSON object a line: {"event":"window-start"}, {"event":"window-end"}, then
 * {"event":"result",...}. Progress goes to stderr. Usage: bun scripts/bench/load.ts '<config json>'
 */
import { writeFileSync } from "node:fs";
import * as v from "valibot";
import { Venus } from "../../src/core/sector/api.ts";
import { OnChainState } from "../../src/core/sector/index.ts";
import { BenchClient, type Pacing, SealerThread, type ThreadState } from "./sealer-thread.ts";
import { type LatencySummary, summarize } from "./stats.ts";

const count = v.pipe(v.number(), v.integer(), v.minValue(1));
const ms = v.pipe(v.number(), v.minValue(0));
export const LoadConfigSchema = v.object({
  url: v.pipe(v.string(), v.url()),
  token: v.string(),
  mode: v.picklist(["saturation", "paced"]),
  threads: count,
  durationMs: ms,
  /** saturation: calls before the window opens are not measured. paced: the most the fast-forward may take. */
  warmupMs: ms,
  sealMs: ms,
  pollMs: ms,
  recoverMs: ms,
  pingMs: ms,
  /** Threads brought forward at once during the paced warm-up (bounds the open connections). */
  warmupConcurrency: count,
  persistDir: v.nullable(v.string()),
  /** Where to write one answer per method (the bare endpoint's canned payloads); null = do not. */
  samplesOut: v.nullable(v.string()),
});
export type LoadConfig = v.InferOutput<typeof LoadConfigSchema>;

export interface LoadResult {
  event: "result";
  mode: LoadConfig["mode"];
  threads: number;
  windowS: number;
  warmupS: number;
  requestsPerS: number;
  latency: LatencySummary;
  perMethod: Record<string, LatencySummary>;
  errorSamples: Record<string, number>;
  sectorsFinalized: number;
  threadStates: Record<ThreadState, number>;
  loadCpuS: number;
}

const parsed = v.safeParse(LoadConfigSchema, JSON.parse(process.argv[2] ?? "null"));
if (!parsed.success) {
  const issue = parsed.issues[0];
  throw new Error(`load config: ${v.getDotPath(issue) ?? "(root)"}: ${issue.message}`);
}
const cfg = parsed.output;
const emit = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);

// Every call, measured or not; the window filters them by end time.
const ends: number[] = [];
const lats: number[] = [];
const methodOf: number[] = [];
const failed: boolean[] = [];
const methodNames: string[] = [];
const methodIndex = new Map<string, number>();
const errorSamples = new Map<string, number>();
const samples = new Map<string, { result: unknown; advancing: boolean }>();
let windowStart = Number.POSITIVE_INFINITY;
let windowEnd = Number.POSITIVE_INFINITY;

/** Whether an answer moves a thread forward (the bare endpoint must answer those, not "still pending"). */
function advancing(result: unknown): boolean {
  if (result === null || typeof result !== "object") return result !== null;
  const r = result as { State?: unknown; ShouldWait?: unknown };
  if (r.State !== undefined && r.State !== OnChainState.Landed) return false;
  return r.ShouldWait !== true;
}

const client = new BenchClient(cfg.url, cfg.token, (method, latency, endedAt, ok, result) => {
  let idx = methodIndex.get(method);
  if (idx === undefined) {
    idx = methodNames.push(method) - 1;
    methodIndex.set(method, idx);
  }
  ends.push(endedAt);
  lats.push(latency);
  methodOf.push(idx);
  failed.push(!ok);
  if (!ok && endedAt >= windowStart && endedAt <= windowEnd) {
    const key = String(result).slice(0, 160);
    errorSamples.set(key, (errorSamples.get(key) ?? 0) + 1);
  }
  if (ok && cfg.samplesOut) {
    const prev = samples.get(method);
    if (!prev || (!prev.advancing && advancing(result))) samples.set(method, { result, advancing: advancing(result) });
  }
});

let stopping = false;
let stopNow: () => void = () => {};
const stopped = new Promise<void>((resolve) => (stopNow = resolve));
const sleep = (msToWait: number) => (msToWait <= 0 ? Promise.resolve() : Promise.race([Bun.sleep(msToWait), stopped]));

const threads = Array.from(
  { length: cfg.threads },
  (_, i) =>
    new SealerThread(client, i, cfg.persistDir, (m) => {
      if (performance.now() < windowStart)
        errorSamples.set(`(warm-up) ${m}`, (errorSamples.get(`(warm-up) ${m}`) ?? 0) + 1);
    }),
);
const workers = Math.ceil(cfg.threads / 32);
const ping = (w: number) =>
  client
    .call(Venus.WorkerPing.name, [
      {
        Name: `bench-${w}`,
        Dest: `127.0.0.1:${17890 + (w % 40000)}`,
        Version: "bench",
        Summary: { Threads: 32, Empty: 0, Paused: 0, Running: 32, Waiting: 0, Errors: 0 },
      },
    ])
    .catch(() => {});

async function runThread(t: SealerThread, pacing: Pacing, firstDelay: number): Promise<void> {
  await sleep(firstDelay);
  while (!stopping) await sleep(await t.step(pacing));
}
async function runPinger(w: number, firstDelay: number): Promise<void> {
  await sleep(firstDelay);
  while (!stopping) {
    await ping(w);
    await sleep(cfg.pingMs);
  }
}

const real: Pacing = {
  sealMs: cfg.sealMs,
  pollMs: cfg.pollMs,
  recoverMs: cfg.recoverMs,
  keepSchedule: cfg.mode === "paced",
};
const t0 = performance.now();
let running: Promise<void>[];
if (cfg.mode === "saturation") {
  // Starts spread over a second; the warm-up lets connections open and the store warm before measuring.
  running = [
    ...threads.map((t, i) => runThread(t, real, (i / cfg.threads) * 1000)),
    ...Array.from({ length: workers }, (_, w) => runPinger(w, (w / workers) * cfg.pingMs)),
  ];
  await Bun.sleep(cfg.warmupMs);
  windowStart = performance.now();
} else {
  const cycle = cfg.sealMs + 2 * cfg.pollMs;
  const fast: Pacing = { sealMs: 200, pollMs: 500, recoverMs: 500, keepSchedule: false };
  const plan = threads.map((_, i) => {
    // Cycle of a thread at steady state: allocate … SubmitPreCommit and a first poll at 0, the PreCommit
    // poll that finds it landed … SubmitProof at poll, the proof poll at 2·poll, seal interval, again.
    const phase = ((i + 0.5) / cfg.threads) * cycle;
    if (phase < cfg.pollMs) return { target: "pcWait" as const, delay: cfg.pollMs - phase };
    if (phase < 2 * cfg.pollMs) return { target: "proofWait" as const, delay: 2 * cfg.pollMs - phase };
    return { target: "idle" as const, delay: cycle - phase };
  });
  const giveUpAt = t0 + cfg.warmupMs;
  let next = 0;
  let ready = 0;
  const forward = async () => {
    for (let i = next++; i < threads.length; i = next++) {
      const t = threads[i]!;
      while (t.state !== plan[i]!.target && performance.now() < giveUpAt) {
        const d = await t.step(fast);
        if (t.state !== plan[i]!.target) await Bun.sleep(d);
      }
      if (t.state === plan[i]!.target) ready++;
      t.settle();
    }
  };
  await Promise.all(Array.from({ length: Math.min(cfg.warmupConcurrency, threads.length) }, forward));
  console.error(
    `load: ${ready}/${threads.length} threads at their cycle point after ${((performance.now() - t0) / 1000).toFixed(1)} s warm-up`,
  );
  windowStart = performance.now();
  running = [
    ...threads.map((t, i) => runThread(t, real, plan[i]!.delay)),
    ...Array.from({ length: workers }, (_, w) => runPinger(w, ((w + 0.5) / workers) * cfg.pingMs)),
  ];
}
const cpuAtStart = process.cpuUsage();
emit({ event: "window-start" });
await Bun.sleep(cfg.durationMs);
windowEnd = performance.now();
const cpu = process.cpuUsage(cpuAtStart);
emit({ event: "window-end" });
stopping = true;
stopNow();

const windowS = (windowEnd - windowStart) / 1000;
const all: number[] = [];
let errors = 0;
const byMethod = new Map<number, { lat: number[]; errors: number }>();
for (let k = 0; k < ends.length; k++) {
  if (ends[k]! < windowStart || ends[k]! > windowEnd) continue;
  all.push(lats[k]!);
  const m = byMethod.get(methodOf[k]!) ?? { lat: [], errors: 0 };
  byMethod.set(methodOf[k]!, m);
  m.lat.push(lats[k]!);
  if (failed[k]) {
    errors++;
    m.errors++;
  }
}
const states: Record<ThreadState, number> = { idle: 0, pcWait: 0, seedWait: 0, proofWait: 0 };
for (const t of threads) states[t.state]++;
const result: LoadResult = {
  event: "result",
  mode: cfg.mode,
  threads: cfg.threads,
  windowS,
  warmupS: (windowStart - t0) / 1000,
  requestsPerS: all.length / windowS,
  latency: summarize(all, errors),
  perMethod: Object.fromEntries(
    [...byMethod].map(([idx, m]) => [methodNames[idx]!, summarize(m.lat, m.errors)] as const),
  ),
  errorSamples: Object.fromEntries(errorSamples),
  sectorsFinalized: threads.reduce((n, t) => n + t.finalized, 0),
  threadStates: states,
  loadCpuS: (cpu.user + cpu.system) / 1e6,
};
if (cfg.samplesOut) {
  writeFileSync(cfg.samplesOut, JSON.stringify(Object.fromEntries([...samples].map(([m, s]) => [m, s.result]))));
}
emit(result);
// In-flight calls and sleeping threads are abandoned: the window is closed.
await Promise.race([Promise.all(running), Bun.sleep(200)]);
process.exit(0);
