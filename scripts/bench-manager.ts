/**
 * Benchmark of the manager, measured from outside: `damocles manager run` on a fresh home (devnet chain,
 * simulated proofs) pinned to half of the CPUs, and the simulated sealing threads in a separate load
 * generator pinned to the other half (scripts/bench/load.ts). Two modes: saturation (each thread calls as
 * soon as its previous call answered) and paced (the original worker's seal_interval and
 * rpc_polling_interval with 10,000 threads). The same load then runs against a bare Bun + hono endpoint
 * answering the same methods with the manager's own recorded answers: the manager/bare ratio is what the
 * manager's store, validation and chain cost. Prints a table; --json FILE writes every figure.
 */

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, cpus as osCpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import * as v from "valibot";
import { parseDuration } from "../src/core/config/units.ts";
import { Venus } from "../src/core/sector/api.ts";
import type { LoadConfig } from "./bench/load.ts";
import { idleSample, type PhaseResult, pinned, runPhase } from "./bench/phase.ts";
import { formatCpuList, parseCpuList, readStatus, splitCpus } from "./bench/proc.ts";
import { methodTable, phaseTable, ratios } from "./bench/report.ts";

const { values: raw } = parseArgs({
  options: {
    mode: { type: "string", default: "both" },
    threads: { type: "string", default: "10000" },
    "saturation-threads": { type: "string", default: "1000" },
    duration: { type: "string", default: "20s" },
    warmup: { type: "string", default: "3s" },
    "paced-warmup-max": { type: "string", default: "300s" },
    idle: { type: "string", default: "5s" },
    "warmup-concurrency": { type: "string", default: "1000" },
    "seal-interval": { type: "string", default: "30s" },
    "poll-interval": { type: "string", default: "180s" },
    "block-time": { type: "string", default: "200ms" },
    "daemon-cpus": { type: "string" },
    "load-cpus": { type: "string" },
    compiled: { type: "boolean", default: false },
    json: { type: "string" },
    keep: { type: "boolean", default: false },
  },
});
const durationArg = (flag: string) =>
  v.pipe(
    v.string(),
    v.transform((s) => parseDuration(s)),
    v.number(`--${flag}: expected a duration such as 20s, 500ms or 3m`),
  );
const positive = (flag: string) =>
  v.pipe(v.string(), v.transform(Number), v.number(), v.integer(`--${flag}: expected a whole number`), v.minValue(1));
const cpuList = (flag: string) =>
  v.optional(
    v.pipe(
      v.string(),
      v.check((s) => /^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(s), `--${flag}: expected a CPU list such as 0, 0-3 or 0,2`),
    ),
  );
const ArgsSchema = v.object({
  mode: v.picklist(["saturation", "paced", "both"], "--mode: expected saturation, paced or both"),
  threads: positive("threads"),
  "saturation-threads": positive("saturation-threads"),
  duration: durationArg("duration"),
  warmup: durationArg("warmup"),
  "paced-warmup-max": durationArg("paced-warmup-max"),
  idle: durationArg("idle"),
  "warmup-concurrency": positive("warmup-concurrency"),
  "seal-interval": durationArg("seal-interval"),
  "poll-interval": durationArg("poll-interval"),
  "block-time": v.string(),
  "daemon-cpus": cpuList("daemon-cpus"),
  "load-cpus": cpuList("load-cpus"),
  compiled: v.boolean(),
  json: v.optional(v.string()),
  keep: v.boolean(),
});
const checked = v.safeParse(ArgsSchema, raw);
if (!checked.success) {
  console.error(`bench-manager: ${checked.issues.map((i) => i.message).join("; ")}`);
  process.exit(2);
}
const opts = checked.output;
const ROOT = join(import.meta.dir, "..");
const warnings: string[] = [];
const warn = (line: string) => {
  warnings.push(line);
  console.error(`WARNING: ${line}`);
};

// The machine, and whether figures taken now can be published.
const allowed = parseCpuList(readStatus(process.pid).cpusAllowed);
const cpuModel =
  /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? osCpus()[0]?.model ?? "?";
const loadAtStart = loadavg();
if (loadAtStart[0]! > allowed.length) {
  warn(`machine busy: load ${loadAtStart[0]!.toFixed(2)} on ${allowed.length} cores — figures not publishable`);
}
const split = splitCpus(allowed);
const serverCpus = opts["daemon-cpus"] ?? formatCpuList(split.server);
const loadCpus = opts["load-cpus"] ?? formatCpuList(split.load);
if (allowed.length < 2) warn("only one core: the load generator and the server share it — figures measure both");
const overlap = parseCpuList(serverCpus).filter((c) => parseCpuList(loadCpus).includes(c));
if (overlap.length > 0 && allowed.length >= 2) warn(`server and load CPUs overlap (${formatCpuList(overlap)})`);

// A fresh manager home: devnet with fast blocks and simulated proofs, batches sized for many sectors a second.
const home = mkdtempSync(join(tmpdir(), "damocles-bench-"));
const damocles = opts.compiled ? [join(ROOT, "dist/damocles")] : [process.execPath, join(ROOT, "bin/damocles.ts")];
const init = Bun.spawnSync([
  ...damocles,
  "manager",
  "init",
  "--home",
  home,
  "--actor",
  "1000",
  "--sector-size",
  "2KiB",
]);
if (init.exitCode !== 0) throw new Error(`manager init failed: ${init.stderr}`);
const cfgPath = join(home, "sector-manager.cfg");
writeFileSync(
  cfgPath,
  readFileSync(cfgPath, "utf8")
    .replace(
      "[Common.Devnet]\n",
      `[Common.Devnet]\nBlockTime = "${opts["block-time"]}"\nPreCommitChallengeDelay = 5\nSealRandomnessLookback = 2\nInsecureSkipProofVerification = true\n`,
    )
    .replaceAll(
      'Threshold = 1\nMaxWait = "30s"\nCheckInterval = "5s"',
      'Threshold = 32\nMaxWait = "2s"\nCheckInterval = "500ms"',
    ),
);
const persist = join(home, "persist-1");
mkdirSync(join(persist, "sealed"), { recursive: true });
mkdirSync(join(persist, "cache"), { recursive: true });

const modes: LoadConfig["mode"][] = opts.mode === "both" ? ["saturation", "paced"] : [opts.mode];
const loadConfig = (url: string, token: string, mode: LoadConfig["mode"], samplesOut: string | null): LoadConfig =>
  mode === "saturation"
    ? {
        url,
        token,
        mode,
        threads: opts["saturation-threads"],
        durationMs: opts.duration,
        warmupMs: opts.warmup,
        sealMs: 0,
        pollMs: 500,
        recoverMs: 500,
        pingMs: 5000,
        warmupConcurrency: opts["warmup-concurrency"],
        persistDir: persist,
        samplesOut,
      }
    : {
        url,
        token,
        mode,
        threads: opts.threads,
        durationMs: opts.duration,
        warmupMs: opts["paced-warmup-max"],
        sealMs: opts["seal-interval"],
        pollMs: opts["poll-interval"],
        recoverMs: 60_000, // the worker's recover_interval
        pingMs: 30_000, // the worker's ping_interval
        warmupConcurrency: opts["warmup-concurrency"],
        persistDir: persist,
        samplesOut,
      };

async function waitFor<T>(what: string, probe: () => T | undefined, ms = 30_000): Promise<T> {
  const giveUp = Date.now() + ms;
  for (;;) {
    const got = probe();
    if (got !== undefined) return got;
    if (Date.now() > giveUp) throw new Error(`${what} did not happen within ${ms / 1000} s`);
    await Bun.sleep(50);
  }
}

const phases: PhaseResult[] = [];
let idle: Awaited<ReturnType<typeof idleSample>> | undefined;
let idleAfter: typeof idle;
const token = readFileSync(join(home, "token"), "utf8").trim();
const samplesFiles: string[] = [];
console.error(`bench: server on CPUs ${serverCpus}, load generator on CPUs ${loadCpus}; home ${home}`);

{
  // The manager runs first: its answers are the bare endpoint's canned payloads.
  const logFile = join(home, "daemon.log");
  const daemon = Bun.spawn(
    pinned(serverCpus, [...damocles, "manager", "run", "--home", home, "--listen", "127.0.0.1:0"]),
    {
      stdout: Bun.file(logFile),
      stderr: Bun.file(logFile),
      env: { ...process.env, DAMOCLES_LOG_LEVEL: "warn" },
    },
  );
  const api = await waitFor("the daemon writing <home>/api", () =>
    existsSync(join(home, "api")) ? readFileSync(join(home, "api"), "utf8").trim() : undefined,
  ).catch((err) => {
    throw new Error(`${(err as Error).message}: ${readFileSync(logFile, "utf8").slice(-2000)}`);
  });
  const url = `${api.startsWith("http") ? api : `http://${api}`}/rpc/v0`;
  // What the daemon costs with no caller at all (its chain, batching and proving loops): the floor under
  // every loaded figure.
  if (opts.idle > 0) {
    idle = await idleSample(daemon.pid, opts.idle);
    console.error(`bench: manager idle ${idle.cpuPct.toFixed(1)}% CPU, ${idle.rssMiB.toFixed(1)} MiB`);
  }
  for (const mode of modes) {
    const samples = join(home, `samples-${mode}.json`);
    samplesFiles.push(samples);
    console.error(`bench: manager, ${mode}`);
    const phase = await runPhase("manager", daemon.pid, loadCpus, loadConfig(url, token, mode, samples));
    phases.push(phase);
  }
  // Idle again, now with the phases' sectors in flight: background work that grows with the store shows here.
  if (opts.idle > 0) idleAfter = await idleSample(daemon.pid, opts.idle);
  daemon.kill("SIGTERM");
  await daemon.exited;
}

{
  // Canned answers: per method, the first recorded one that moved a thread forward (saturation's first).
  const canned: Record<string, unknown> = {};
  for (const file of samplesFiles) {
    for (const [m, r] of Object.entries(JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>)) {
      if (!(m in canned)) canned[m] = r;
    }
  }
  // A method the manager never answered in its window (too short a run) gets null where null is its only
  // answer; any other stays unanswered and shows as errors (-32601) of the bare phases.
  for (const def of Object.values(Venus)) {
    if (!(def.name in canned) && def.result.type === "null") canned[def.name] = null;
  }
  const cannedPath = join(home, "canned.json");
  writeFileSync(cannedPath, JSON.stringify(canned));
  const bare = Bun.spawn(
    pinned(serverCpus, [process.execPath, join(import.meta.dir, "bench/bare-endpoint.ts"), cannedPath, token]),
    {
      stdout: "pipe",
      stderr: "inherit",
    },
  );
  const reader = bare.stdout.getReader();
  const first = await reader.read();
  const url = new TextDecoder().decode(first.value).trim();
  if (!url.startsWith("http")) throw new Error(`bare endpoint did not start (said: ${url})`);
  for (const mode of modes) {
    console.error(`bench: bare endpoint, ${mode}`);
    phases.push(await runPhase("bare", bare.pid, loadCpus, loadConfig(url, token, mode, null)));
  }
  bare.kill("SIGTERM");
  await bare.exited;
}
const loadAtEnd = loadavg();

for (const p of phases) {
  if (p.generator.cpuPct > 90) {
    warn(
      `${p.target}/${p.mode}: the load generator used ${p.generator.cpuPct.toFixed(0)}% of its core — the figures measure the generator, not the ${p.target}`,
    );
  }
  if (p.load.latency.errors > 0) warn(`${p.target}/${p.mode}: ${p.load.latency.errors} calls failed`);
}
// Paced threads offer the same load to both servers: a manager well below the bare endpoint fell behind.
const pacedManager = phases.find((p) => p.target === "manager" && p.mode === "paced");
const pacedBare = phases.find((p) => p.target === "bare" && p.mode === "paced");
if (pacedManager && pacedBare && pacedManager.load.requestsPerS < 0.9 * pacedBare.load.requestsPerS) {
  warn(
    `paced: the manager answered ${pacedManager.load.requestsPerS.toFixed(0)} req/s of the ${pacedBare.load.requestsPerS.toFixed(0)} the same threads sent the bare endpoint — it did not keep up with the original's pacing`,
  );
}
const pinning = phases[0] ? { server: phases[0].server.cpus, load: phases[0].generator.cpus } : undefined;
const facts = {
  cpuModel,
  cores: allowed.length,
  loadavgStart: loadAtStart,
  loadavgEnd: loadAtEnd,
  bun: Bun.version,
  pinning,
};

console.log(`machine      ${cpuModel}, ${allowed.length} cores, Bun ${Bun.version}`);
console.log(
  `load avg     start ${loadAtStart.map((l) => l.toFixed(2)).join(" ")}, end ${loadAtEnd.map((l) => l.toFixed(2)).join(" ")}`,
);
console.log(
  `pinning      server on CPUs ${pinning?.server ?? "?"}, load generator on CPUs ${pinning?.load ?? "?"} (Cpus_allowed_list)`,
);
console.log(
  `window       ${(opts.duration / 1000).toFixed(0)} s per phase; paced: ${opts.threads} threads, seal_interval ${opts["seal-interval"] / 1000} s, polling ${opts["poll-interval"] / 1000} s; saturation: ${opts["saturation-threads"]} threads`,
);
if (idle && idleAfter) {
  console.log(
    `idle         manager with no calls: before the phases ${idle.cpuPct.toFixed(1)}% CPU, RSS ${idle.rssMiB.toFixed(1)} MiB; after them (their sectors in flight) ${idleAfter.cpuPct.toFixed(1)}% CPU, RSS ${idleAfter.rssMiB.toFixed(1)} MiB (${idle.seconds.toFixed(0)} s each)`,
  );
}
console.log("");
for (const line of phaseTable(phases)) console.log(line);
const r = ratios(phases);
if (r.length > 0) {
  console.log("");
  for (const x of r) {
    console.log(`manager/bare ${x.mode.padEnd(11)} req/s ×${x.requestsPerS.toFixed(2)}   p99 ×${x.p99.toFixed(2)}`);
  }
  if (r.some((x) => x.mode === "saturation")) {
    console.log(
      "(saturation mixes differ: the bare endpoint's polls answer landed at once, so its threads run whole sectors while the manager's wait on the chain; compare per method below)",
    );
  }
}
for (const m of phases.filter((p) => p.target === "manager")) {
  console.log(
    `\nper method, manager/${m.mode} (warm-up ${m.load.warmupS.toFixed(1)} s, ${m.load.sectorsFinalized} sectors finalized):`,
  );
  for (const line of methodTable(
    m,
    phases.find((p) => p.target === "bare" && p.mode === m.mode),
  ))
    console.log(line);
  const errs = Object.entries(m.load.errorSamples);
  if (errs.length > 0) {
    console.log("  errors:");
    for (const [k, n] of errs.slice(0, 10)) console.log(`    ${n} × ${k}`);
  }
}
if (warnings.length > 0) {
  console.log("");
  for (const w of warnings) console.log(`WARNING: ${w}`);
}
if (opts.json) {
  writeFileSync(
    opts.json,
    `${JSON.stringify({ facts, options: opts, managerIdle: { before: idle ?? null, after: idleAfter ?? null }, phases, ratios: r, warnings }, null, 2)}\n`,
  );
  console.log(`\nfigures written to ${opts.json}`);
}
if (opts.keep) console.log(`home kept at ${home}`);
else rmSync(home, { recursive: true, force: true });
