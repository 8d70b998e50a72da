/**
 * Benchmark of the manager: K concurrent simulated sealing threads, each running the RPC loop of a
 * sealer-plan thread (AllocateSector … PollProofState, ReportState after every step, ReportFinalized)
 * against a real daemon started with `damocles manager run` on a fresh home. Proofs are simulated, so
 * the devnet runs with InsecureSkipProofVerification; everything else (store, batching, chain) is real.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { bearer } from "../src/core/auth/index.ts";
import { parseDuration } from "../src/core/config/units.ts";
import { RpcCallError, RpcClient } from "../src/core/rpc/index.ts";
import { Venus } from "../src/core/sector/api.ts";
import {
  type AllocatedSector,
  OnChainState,
  type SectorID,
  SubmitResult,
  zeroCommD,
} from "../src/core/sector/index.ts";

const { values: opts } = parseArgs({
  options: {
    threads: { type: "string", default: "1000" },
    duration: { type: "string", default: "30s" },
    "poll-interval": { type: "string", default: "500ms" },
    "block-time": { type: "string", default: "200ms" },
    "ping-interval": { type: "string", default: "5s" },
    transport: { type: "string", default: "http" },
    keep: { type: "boolean", default: false },
  },
});
const THREADS = Number(opts.threads);
const DURATION = parseDuration(opts.duration!) ?? 30_000;
const POLL = parseDuration(opts["poll-interval"]!) ?? 500;
const PING = parseDuration(opts["ping-interval"]!) ?? 5000;
const ROOT = join(import.meta.dir, "..");
const ENTRY = join(ROOT, "bin/damocles.ts");

const home = mkdtempSync(join(tmpdir(), "damocles-bench-"));
const run = (args: string[]) => Bun.spawnSync([process.execPath, ENTRY, ...args], { stdout: "pipe", stderr: "pipe" });
const init = run(["manager", "init", "--home", home, "--actor", "1000", "--sector-size", "2KiB"]);
if (init.exitCode !== 0) throw new Error(`manager init failed: ${init.stderr}`);
const cfgPath = join(home, "sector-manager.cfg");
let cfg = readFileSync(cfgPath, "utf8");
cfg = cfg.replace(
  "[Common.Devnet]\n",
  `[Common.Devnet]\nBlockTime = "${opts["block-time"]}"\nPreCommitChallengeDelay = 5\nSealRandomnessLookback = 2\nInsecureSkipProofVerification = true\n`,
);
// Bigger batches than the demo defaults: with K threads, sectors arrive many per second.
cfg = cfg.replaceAll(
  'Threshold = 1\nMaxWait = "30s"\nCheckInterval = "5s"',
  'Threshold = 32\nMaxWait = "2s"\nCheckInterval = "500ms"',
);
writeFileSync(cfgPath, cfg);
const persist = join(home, "persist-1");

const logFile = join(home, "daemon.log");
const daemon = Bun.spawn([process.execPath, ENTRY, "manager", "run", "--home", home, "--listen", "127.0.0.1:0"], {
  stdout: Bun.file(logFile),
  stderr: Bun.file(logFile),
  env: { ...process.env, DAMOCLES_LOG_LEVEL: "warn" },
});
const deadlineStart = Date.now() + 20_000;
while (!existsSync(join(home, "api"))) {
  if (Date.now() > deadlineStart) throw new Error(`daemon did not start: ${readFileSync(logFile, "utf8")}`);
  await Bun.sleep(50);
}
const addr = readFileSync(join(home, "api"), "utf8").trim();

let peakRss = 0;
let daemonCpuSec = 0;
const ticksPerSec = 100; // USER_HZ on Linux
const sampleDaemon = () => {
  try {
    const status = readFileSync(`/proc/${daemon.pid}/status`, "utf8");
    const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
    if (hwm) peakRss = Math.max(peakRss, Number(hwm[1]) * 1024);
    const stat = readFileSync(`/proc/${daemon.pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    daemonCpuSec = (Number(stat[11]) + Number(stat[12])) / ticksPerSec;
  } catch {}
};
const rssTimer = setInterval(sampleDaemon, 250);
const cpuAtStart = process.cpuUsage();

const latencies: number[] = [];
const perMethod = new Map<string, number[]>();
let errors = 0;
const errorSamples = new Map<string, number>();
let sectorsDone = 0;
let stopping = false;
const endAt = Date.now() + DURATION;
// Tokens are checked on every call (the daemon's default): the bench measures that too.
const client = new RpcClient(addr, {
  transport: opts.transport === "ws" ? "ws" : "http",
  timeoutMs: 120_000,
  headers: bearer(readFileSync(join(home, "token"), "utf8").trim()),
});

async function timed<T>(method: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  try {
    return await fn();
  } catch (err) {
    errors++;
    const key =
      err instanceof RpcCallError ? `${method}: ${err.code}` : `${method}: ${(err as Error).message.slice(0, 80)}`;
    errorSamples.set(key, (errorSamples.get(key) ?? 0) + 1);
    throw err;
  } finally {
    const ms = performance.now() - t0;
    latencies.push(ms);
    const arr = perMethod.get(method) ?? [];
    perMethod.set(method, arr);
    arr.push(ms);
  }
}

async function pollUntil<T>(fn: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
  for (;;) {
    const v = await fn();
    if (done(v) || stopping) return v;
    await Bun.sleep(POLL);
  }
}

const CC = [...zeroCommD(2048)];

async function sealingThread(index: number): Promise<void> {
  const worker = { Instance: `bench-${Math.floor(index / 32)}`, Location: `/bench/store${index}` };
  const report = (sid: SectorID, prev: string, next: string, event: string) =>
    timed("ReportState", () =>
      client.call(Venus.ReportState, sid, {
        Worker: worker,
        StateChange: { Prev: prev, Next: next, Event: event },
        Failure: null,
      }),
    );
  // Spread the start over a second so the first requests do not all land at once.
  await Bun.sleep((index % 1000) + Math.random() * 50);
  while (!stopping && Date.now() < endAt) {
    try {
      const sector: AllocatedSector | null = await timed("AllocateSector", () =>
        client.call(Venus.AllocateSector, { AllowedMiners: null, AllowedProofTypes: null }),
      );
      if (!sector) {
        await Bun.sleep(POLL);
        continue;
      }
      const sid = sector.ID;
      await report(sid, "Empty", "Allocated", "Allocate");
      await timed("AcquireDeals", () => client.call(Venus.AcquireDeals, sid, { MaxDeals: null, MinUsedSpace: null }));
      await report(sid, "Allocated", "DealsAcquired", "AcquireDeals");
      await report(sid, "DealsAcquired", "PieceAdded", "AddPiece");
      await report(sid, "PieceAdded", "TreeDBuilt", "BuildTreeD");
      const ticket = await timed("AssignTicket", () => client.call(Venus.AssignTicket, sid));
      await report(sid, "TreeDBuilt", "TicketAssigned", "AssignTicket");
      await report(sid, "TicketAssigned", "PC1Done", "PC1");
      await report(sid, "PC1Done", "PC2Done", "PC2");
      const commR = Array.from({ length: 32 }, (_, i) => (sid.Number * 31 + i) % 256);
      const pre = await timed("SubmitPreCommit", () =>
        client.call(Venus.SubmitPreCommit, sector, { CommR: commR, CommD: CC, Ticket: ticket, Deals: null }, false),
      );
      if (pre.Res !== SubmitResult.Accepted) throw new Error(`SubmitPreCommit: ${pre.Res} ${pre.Desc}`);
      await report(sid, "PC2Done", "PCSubmitted", "SubmitPC");
      const pc = await pollUntil(
        () => timed("PollPreCommitState", () => client.call(Venus.PollPreCommitState, sid)),
        (r) => r.State !== OnChainState.Pending && r.State !== OnChainState.Packed,
      );
      if (stopping) break;
      if (pc.State !== OnChainState.Landed) throw new Error(`PreCommit ${pc.State}: ${pc.Desc}`);
      await report(sid, "PCSubmitted", "PCLanded", "CheckPC");
      const store = await timed("StoreReserveSpace", () =>
        client.call(Venus.StoreReserveSpace, sid, 4096, ["persist-1"]),
      );
      if (!store) throw new Error("no store");
      const name = `s-t0${sid.Miner}-${sid.Number}`;
      writeFileSync(join(persist, "sealed", name), "");
      mkdirSync(join(persist, "cache", name), { recursive: true });
      await report(sid, "PCLanded", "Persisted", "Persist");
      await timed("SubmitPersistedEx", () => client.call(Venus.SubmitPersistedEx, sid, store.Name, false));
      await report(sid, "Persisted", "PersistanceSubmitted", "SubmitPersistance");
      const seed = await pollUntil(
        () => timed("WaitSeed", () => client.call(Venus.WaitSeed, sid, sector.ProofType)),
        (r) => !r.ShouldWait,
      );
      if (stopping) break;
      await report(sid, "PersistanceSubmitted", "SeedAssigned", "AssignSeed");
      await report(sid, "SeedAssigned", "C1Done", "C1");
      await report(sid, "C1Done", "C2Done", "C2");
      const proof = Buffer.from(`simulated-proof-${seed.Seed?.Epoch}`).toString("base64");
      const sp = await timed("SubmitProof", () => client.call(Venus.SubmitProof, sid, { Proof: proof }, false));
      if (sp.Res !== SubmitResult.Accepted) throw new Error(`SubmitProof: ${sp.Res} ${sp.Desc}`);
      await report(sid, "C2Done", "ProofSubmitted", "SubmitProof");
      const pp = await pollUntil(
        () => timed("PollProofState", () => client.call(Venus.PollProofState, sid)),
        (r) => r.State !== OnChainState.Pending && r.State !== OnChainState.Packed,
      );
      if (stopping) break;
      if (pp.State !== OnChainState.Landed) throw new Error(`ProveCommit ${pp.State}: ${pp.Desc}`);
      await report(sid, "ProofSubmitted", "Finished", "Finish");
      await timed("ReportFinalized", () => client.call(Venus.ReportFinalized, sid));
      sectorsDone++;
    } catch (err) {
      if (!(err instanceof RpcCallError))
        errorSamples.set(
          String((err as Error).message).slice(0, 100),
          (errorSamples.get(String((err as Error).message).slice(0, 100)) ?? 0) + 1,
        );
      await Bun.sleep(POLL);
    }
  }
}

async function pinger(w: number): Promise<void> {
  while (!stopping && Date.now() < endAt) {
    await timed("WorkerPing", () =>
      client.call(Venus.WorkerPing, {
        Name: `bench-${w}`,
        Dest: `127.0.0.1:${17890 + w}`,
        Version: "bench",
        Summary: { Threads: 32, Empty: 0, Paused: 0, Running: 32, Waiting: 0, Errors: 0 },
      }),
    ).catch(() => {});
    await Bun.sleep(PING);
  }
}

mkdirSync(join(persist, "sealed"), { recursive: true });
mkdirSync(join(persist, "cache"), { recursive: true });
console.error(
  `bench: ${THREADS} sealing threads for ${DURATION / 1000}s against ${addr} (poll ${POLL} ms, block time ${opts["block-time"]}, ${opts.transport})`,
);
const started = performance.now();
const stopTimer = setTimeout(() => (stopping = true), DURATION);
await Promise.all([
  ...Array.from({ length: THREADS }, (_, i) => sealingThread(i)),
  ...Array.from({ length: Math.ceil(THREADS / 32) }, (_, w) => pinger(w)),
]);
clearTimeout(stopTimer);
const elapsed = (performance.now() - started) / 1000;
sampleDaemon();
clearInterval(rssTimer);
const clientCpu = process.cpuUsage(cpuAtStart);
client.close();
daemon.kill("SIGTERM");
await daemon.exited;

const pct = (arr: number[], p: number) => {
  if (arr.length === 0) return 0;
  const sorted = [...arr].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};
console.log(`threads            ${THREADS}`);
console.log(`duration           ${elapsed.toFixed(1)} s`);
console.log(`requests           ${latencies.length} (${errors} errors)`);
console.log(`requests/s         ${(latencies.length / elapsed).toFixed(0)}`);
console.log(`latency p50        ${pct(latencies, 50).toFixed(2)} ms`);
console.log(`latency p99        ${pct(latencies, 99).toFixed(2)} ms`);
console.log(`sectors finalized  ${sectorsDone}`);
console.log(`daemon peak RSS    ${(peakRss / 2 ** 20).toFixed(1)} MiB`);
console.log(
  `daemon CPU         ${daemonCpuSec.toFixed(1)} s (${((daemonCpuSec / elapsed) * 100).toFixed(0)}% of one core)`,
);
console.log(
  `bench client CPU   ${((clientCpu.user + clientCpu.system) / 1e6).toFixed(1)} s (same machine: client and daemon share the cores)`,
);
console.log("per method (count, p50 ms, p99 ms):");
for (const [m, arr] of [...perMethod].sort((a, b) => b[1].length - a[1].length)) {
  console.log(
    `  ${m.padEnd(20)} ${String(arr.length).padStart(8)} ${pct(arr, 50).toFixed(2).padStart(8)} ${pct(arr, 99).toFixed(2).padStart(8)}`,
  );
}
if (errorSamples.size > 0) {
  console.log("errors:");
  for (const [k, n] of errorSamples) console.log(`  ${n} × ${k}`);
}
if (opts.keep) console.log(`home kept at ${home}`);
else rmSync(home, { recursive: true, force: true });
