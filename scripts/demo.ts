/**
 * The main job on one machine: a devnet manager and a worker with two sealing threads (pc1, pc2 and c2 in
 * external processors) seal N real 2KiB CC sectors; the devnet verifies every proof. With
 * --proving-periods P the manager also runs the poster in worker-prover mode and the worker a wdpost
 * thread: the cluster keeps proving until P proving periods have passed after the last sector landed,
 * every WindowPoSt verified by the devnet. With --deals K, K random files become storage deals first, the
 * sectors are sealed with their data, and every piece is then unsealed from its sector (the piece-store copies
 * deleted) and compared byte for byte. With --rebuild N (needs --proving-periods), N sectors then lose their
 * sealed replica: the poster declares them faulty, a sealing thread switched to plan = "rebuild" by its hot
 * config rebuilds them, and the poster declares them recovered (demo-rebuild.ts). Prints progress per
 * sector, stage and deadline, stops what it started (unless --keep), and ends with the summary line.
 */

import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { Subprocess } from "bun";
import { bearer } from "../src/core/auth/index.ts";
import { RpcClient } from "../src/core/rpc/client.ts";
import { Damocles, Venus } from "../src/core/sector/api.ts";
import { Proving } from "../src/core/sector/api-proving.ts";
import type { SectorState } from "../src/core/sector/wire.ts";
import { activeDeals, type DemoDeal, dropPieceCopies, importDeals, unsealAndCompare } from "./demo-deals.ts";
import { DemoRebuilds } from "./demo-rebuild.ts";
import { enableSnapUp, snappedSectors, startSnaps } from "./demo-snap.ts";

const { values: opts } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    sectors: { type: "string", default: "2" },
    keep: { type: "boolean", default: false },
    home: { type: "string" },
    "proving-periods": { type: "string", default: "0" },
    deals: { type: "string", default: "0" },
    rebuild: { type: "string", default: "0" },
    snap: { type: "string", default: "0" },
    "timeout-min": { type: "string", default: "30" },
    "sector-size": { type: "string", default: "2KiB" },
  },
  strict: true,
});

const fail = (msg: string): never => {
  console.error(`demo: ${msg}`);
  process.exit(2);
};
const sectors = Number(opts.sectors);
if (!Number.isInteger(sectors) || sectors < 1) fail(`--sectors: expected a positive integer, got "${opts.sectors}"`);
const provingPeriods = Number(opts["proving-periods"]);
if (!Number.isInteger(provingPeriods) || provingPeriods < 0)
  fail(`--proving-periods: expected a non-negative integer, got "${opts["proving-periods"]}"`);
const dealCount = Number(opts.deals);
if (!Number.isInteger(dealCount) || dealCount < 0)
  fail(`--deals: expected a non-negative integer, got "${opts.deals}"`);
// Each deal piece is at most 1KiB padded, so two fit one 2KiB sector.
if (dealCount > 2 * sectors)
  fail(`--deals ${dealCount} needs at least ${Math.ceil(dealCount / 2)} sectors (--sectors)`);
const rebuildCount = Number(opts.rebuild);
if (!Number.isInteger(rebuildCount) || rebuildCount < 0 || rebuildCount > sectors)
  fail(`--rebuild: expected a number of sectors from 0 to --sectors (${sectors}), got "${opts.rebuild}"`);
const snapCount = Number(opts.snap);
// A snap needs a committed-capacity sector, and a rebuild one that was not snapped.
if (!Number.isInteger(snapCount) || snapCount < 0 || snapCount + rebuildCount > sectors - Math.ceil(dealCount / 2))
  fail(
    `--snap: expected a number of CC sectors to snap, at most --sectors minus the deal sectors minus --rebuild, got "${opts.snap}"`,
  );
// The poster is what finds a lost replica (and its recovery): no proving, nothing to see.
if (rebuildCount > 0 && provingPeriods === 0) fail("--rebuild needs --proving-periods (at least 1)");
const timeoutMs = Number(opts["timeout-min"]) * 60_000;
const sectorSize = opts["sector-size"]!;
if (!["2KiB", "8MiB", "512MiB"].includes(sectorSize))
  fail(`--sector-size: expected 2KiB, 8MiB or 512MiB, got "${sectorSize}"`);

const ROOT = resolve(import.meta.dir, "..");
const BIN = join(ROOT, "dist/damocles");
if (!existsSync(BIN)) fail(`${BIN} is missing: run ./scripts/setup first`);
const home = resolve(opts.home ?? mkdtempSync(join(tmpdir(), "damocles-demo-")));
const managerHome = join(home, "manager");
const workerDir = join(home, "worker");
const started = performance.now();
const children: Subprocess[] = [];

function say(msg: string) {
  const t = ((performance.now() - started) / 1000).toFixed(1).padStart(6);
  console.log(`[${t}s] ${msg}`);
}

async function damocles(args: string[]): Promise<string> {
  const p = Bun.spawn([BIN, ...args], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) fail(`damocles ${args.join(" ")} failed (${code}):\n${err || out}`);
  return out;
}

function daemon(name: string, args: string[]): Subprocess {
  const log = openSync(join(home, `${name}.log`), "a");
  const p = Bun.spawn([BIN, ...args], { stdout: log, stderr: log, env: { ...process.env, NO_COLOR: "1" } });
  children.push(p);
  void p.exited.then((code) => {
    if (!stopping) {
      console.error(`demo: the ${name} exited unexpectedly (${code}); its log: ${join(home, `${name}.log`)}`);
      console.error(
        readFileSync(join(home, `${name}.log`), "utf8")
          .split("\n")
          .slice(-20)
          .join("\n"),
      );
      void stopAll().then(() => process.exit(1));
    }
  });
  return p;
}

let stopping = false;
async function stopAll() {
  stopping = true;
  for (const c of [...children].reverse()) {
    c.kill("SIGTERM");
    await Promise.race([c.exited, Bun.sleep(15_000).then(() => c.kill("SIGKILL"))]);
  }
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) {
      await stopAll();
      fail(`timed out waiting for ${what}; logs in ${home}`);
    }
    await Bun.sleep(250);
  }
}

// 1. The manager: a devnet miner that allocates exactly `sectors` sector numbers.
say(`home ${home}`);
await damocles(["manager", "init", "--home", managerHome, "--actor", "1000", "--sector-size", sectorSize]);
const cfgPath = join(managerHome, "sector-manager.cfg");
writeFileSync(
  cfgPath,
  readFileSync(cfgPath, "utf8")
    .replace("#MaxNumber = 1000000", `MaxNumber = ${sectors}`)
    // Start each WindowPoSt 8 epochs before its deadline opens (the challenge is 10 epochs before).
    .replace("#ChallengeConfidence = 0", "ChallengeConfidence = 2")
    .replace("#EnableDeals = false", `EnableDeals = ${dealCount > 0}`),
);
if (snapCount > 0) writeFileSync(cfgPath, enableSnapUp(readFileSync(cfgPath, "utf8")));
const proving = provingPeriods > 0 ? ["--poster", "--worker-prover"] : [];
daemon("manager", ["manager", "run", "--home", managerHome, "--listen", "127.0.0.1:0", ...proving]);
const api = await waitFor(
  "the manager's api file",
  async () => {
    const f = join(managerHome, "api");
    return existsSync(f) ? readFileSync(f, "utf8").trim() || undefined : undefined;
  },
  60_000,
);
await waitFor("/healthcheck", async () => ((await fetch(`http://${api}/healthcheck`)).ok ? true : undefined), 30_000);
say(`manager on ${api} (devnet miner t01000, ${sectorSize} sectors)`);

// 2. Deals (--deals K): files imported into the embedded market before any sector is allocated.
let deals: DemoDeal[] = [];
if (dealCount > 0) {
  deals = await importDeals(damocles, home, managerHome, dealCount);
  say(`${deals.length} deal(s) published: ${deals.map((d) => `${d.dealId} ${d.pieceCid}`).join(", ")}`);
}

// 3. The worker: two sealing threads, heavy stages in external processors.
mkdirSync(workerDir, { recursive: true });
const stores = [join(workerDir, "store1"), join(workerDir, "store2")];
const unsealStore = join(workerDir, "unseal");
const snapStore = join(workerDir, "snapup");
await damocles([
  "worker",
  "store",
  "sealing-init",
  "-l",
  ...stores,
  ...(dealCount > 0 ? [unsealStore] : []),
  ...(snapCount > 0 ? [snapStore] : []),
]);
const workerToml = join(workerDir, "worker.toml");
// The manager requires tokens (secure by default): the worker seals and fetches pieces with a write token.
const workerToken = (
  await damocles(["util", "auth", "create-token", "--perm", "write", "--name", "demo-worker", "--home", managerHome])
).trim();
writeFileSync(
  workerToml,
  `[worker]
name = "demo-worker"
rpc_server.host = "127.0.0.1"
rpc_server.port = 0
ping_interval = "5s"

[sector_manager]
rpc_client.addr = "http://${api}"
token = "${workerToken}"

[sealing]
allowed_sizes = ["${sectorSize}"]
max_retries = 3
seal_interval = "1s"
recover_interval = "2s"
rpc_polling_interval = "1s"
enable_deals = ${dealCount > 0}

${stores.map((s) => `[[sealing_thread]]\nlocation = "${s}"\n`).join("\n")}
${dealCount > 0 ? `# Unseal tasks: pieces back out of sealed sectors\n[[sealing_thread]]\nlocation = "${unsealStore}"\nplan = "unseal"\n` : ""}
${snapCount > 0 ? `# SnapDeals: deals encoded into sealed CC sectors\n[[sealing_thread]]\nlocation = "${snapStore}"\nplan = "snapup"\n` : ""}
${provingPeriods > 0 ? `# WindowPoSt jobs from the manager's worker-prover module\n[[sealing_thread]]\nplan = "wdpost"\nsealing.recover_interval = "2s"\n` : ""}
[[attached]]
name = "persist-1"
location = "${join(managerHome, "persist-1")}"

[processors.limitation.concurrent]
c2 = 1

[[processors.pc1]]
[[processors.pc2]]
[[processors.c2]]
`,
);
daemon("worker", ["worker", "run", "-c", workerToml]);
say(
  `worker started: 2 sealing threads; pc1, pc2, c2 in external processors${dealCount > 0 ? "; 1 unseal thread" : ""}${snapCount > 0 ? "; 1 snapup thread" : ""}${provingPeriods > 0 ? "; 1 wdpost thread" : ""}`,
);

// 4. Progress: every state change of every sector, until all are finished.
const client = new RpcClient(api, {
  timeoutMs: 10_000,
  headers: bearer(readFileSync(join(managerHome, "token"), "utf8").trim()),
});
const lastSeen = new Map<string, string>();
let finished: SectorState[] = [];
const deadline = Date.now() + timeoutMs;
for (;;) {
  const online = (await client.call(Venus.ListSectors, "online", 0).catch(() => null)) ?? [];
  const offline = (await client.call(Venus.ListSectors, "offline", 0).catch(() => null)) ?? [];
  for (const s of [...online, ...offline]) {
    const name = `s-t0${s.ID.Miner}-${s.ID.Number}`;
    const change = s.LatestState?.StateChange;
    const now = s.Finalized ? "Finished (finalized)" : change ? `${change.Next} (after ${change.Event})` : "allocated";
    if (lastSeen.get(name) !== now) {
      lastSeen.set(name, now);
      const failure = s.LatestState?.Failure ? `  ! ${s.LatestState.Failure.Level}: ${s.LatestState.Failure.Desc}` : "";
      say(`${name}: ${now}${failure}`);
    }
  }
  finished = offline.filter((s) => s.Finalized && !s.AbortReason);
  if (finished.length >= sectors) break;
  const aborted = offline.filter((s) => s.AbortReason);
  if (aborted.length > 0)
    say(`aborted: ${aborted.map((s) => `s-t0${s.ID.Miner}-${s.ID.Number} (${s.AbortReason})`).join(", ")}`);
  if (Date.now() > deadline) {
    await stopAll();
    fail(`not finished after ${opts["timeout-min"]} min; logs in ${home}`);
  }
  await Bun.sleep(1000);
}

// 5. What the chain says: sectors whose ProveCommit the devnet verified and activated.
const head = await client.call(Damocles.ChainHead);
// The manager reaches its chain through the Lotus-API client; its log names the endpoint.
const chainLine = readFileSync(join(home, "manager.log"), "utf8")
  .split("\n")
  .find((line) => line.includes("[chain]") && line.includes("through the Lotus API client"));
say(`chain client: ${head.Kind}${chainLine ? ` (${chainLine.replace(/^.*?\[chain\].*?chain: /, "")})` : ""}`);
const miner = head.Miners.find((m) => m.Actor === 1000);
const verified = miner?.ActiveSectors ?? 0;

// 5b. SnapDeals (--snap N): deals encoded into sealed CC sectors, the update proofs verified on chain.
let snapped = 0;
if (snapCount > 0) {
  await startSnaps(damocles, home, managerHome, snapCount, say);
  snapped = await waitFor(
    "the snapped sectors to be finalized as upgraded",
    async () => {
      const n = await snappedSectors(client);
      return n >= snapCount ? n : undefined;
    },
    timeoutMs,
  );
  say(`snap: ${snapped} sector(s) upgraded (update proofs verified by the devnet, CC replicas removed)`);
}

// 6. Proving: P full proving periods after the last sector landed, every deadline's outcome as it closes.
let windowposts = 0;
let faults = 0;
let rebuilds: DemoRebuilds | undefined;
if (rebuildCount > 0) {
  rebuilds = new DemoRebuilds({
    run: damocles,
    say,
    client,
    api,
    managerHome,
    threadLocation: stores[0]!,
  });
  const upgraded = new Set(
    ((await client.call(Venus.ListSectors, "offline", 0)) ?? []).filter((s) => s.Upgraded).map((s) => s.ID.Number),
  );
  rebuilds.lose(
    finished
      .map((s) => s.ID.Number)
      .filter((n) => !upgraded.has(n))
      .sort((a, b) => a - b)
      .slice(0, rebuildCount),
  );
}
if (provingPeriods > 0) {
  const info = await client.call(Proving.Info, 1000);
  const period = info.deadlines * info.challengeWindow;
  const until = head.Epoch + provingPeriods * period;
  say(
    `proving: ${provingPeriods} period(s) of ${period} epochs (${((period * info.blockTimeMs) / 1000).toFixed(0)} s) from epoch ${head.Epoch}, until epoch ${until}`,
  );
  const reported = new Set<number>();
  for (;;) {
    const records = await client.call(Proving.Records, 1000, 1000).catch(() => []);
    for (const r of records) {
      if (r.outcome === undefined || reported.has(r.open)) continue;
      reported.add(r.open);
      const sectorsIn = r.partitions.reduce((n, p) => n + p.sectors.length, 0);
      const extra = [
        ...r.declaredFaults.map((n) => `declared faulty ${n}`),
        ...r.detectedFaults.map((n) => `missed ${n}`),
        ...r.recovered.map((n) => `recovered ${n}`),
      ].join(", ");
      say(
        `deadline ${r.deadline} (epochs ${r.open}..${r.close}): ${r.outcome}, ${sectorsIn} sector(s), ${r.verifiedProofs} proof(s) verified${extra ? `; ${extra}` : ""}`,
      );
    }
    if (rebuilds) {
      try {
        await rebuilds.advance();
      } catch (err) {
        await stopAll();
        fail(`${(err as Error).message}; logs in ${home}`);
      }
    }
    const now = await client.call(Proving.Info, 1000).catch(() => undefined);
    // With --rebuild, proving goes on until every rebuilt sector is proven again.
    if (now && now.current.currentEpoch >= until && (rebuilds?.done ?? true)) {
      windowposts = now.stats.windowPoStsVerified;
      // Only what is still faulty: a lost replica that was rebuilt and proven again is not a fault any more.
      faults = (await client.call(Proving.Faults, 1000)).length;
      break;
    }
    if (Date.now() > deadline) {
      await stopAll();
      fail(`proving did not reach epoch ${until} within --timeout-min ${opts["timeout-min"]}; logs in ${home}`);
    }
    await Bun.sleep(1000);
  }
}
// 7. Deals: active on chain, then every piece unsealed from its sector with the stored copies gone.
let dealsActive = 0;
let unsealedVerified = 0;
if (dealCount + snapCount > 0) {
  dealsActive = await waitFor(
    "the deals to be active",
    async () => {
      const n = await activeDeals(damocles, managerHome);
      return n >= dealCount + snapCount ? n : undefined;
    },
    120_000,
  );
  say(`${dealsActive} deal(s) active (${snapCount} by SnapDeals)`);
}
// Pieces of sealed sectors only: a snapped sector's CC replica is gone, unsealing one is not built yet.
if (dealCount > 0) {
  say(`deleted ${dropPieceCopies(managerHome)} piece-store copies`);
  unsealedVerified = await unsealAndCompare(damocles, home, managerHome, deals, say);
}

client.close();
if (!opts.keep) await stopAll();
else say(`--keep: manager and worker keep running (pids ${children.map((c) => c.pid).join(", ")}); logs in ${home}`);
const elapsed = ((performance.now() - started) / 1000).toFixed(1);
const rebuilt = rebuilds?.count("rebuilt") ?? 0;
const recovered = rebuilds?.count("recovered") ?? 0;
console.log(
  `demo summary: sectors_finished=${finished.length} seal_proofs_verified=${verified} windowposts_verified=${windowposts} faults=${faults} deals_active=${dealsActive} unsealed_verified=${unsealedVerified} snapped=${snapped} rebuilt=${rebuilt} faults_recovered=${recovered} elapsed_s=${elapsed}`,
);
const provedOk = provingPeriods === 0 || (windowposts > 0 && faults === 0);
const dealsOk = dealsActive === dealCount + snapCount && unsealedVerified === dealCount;
const snapOk = snapped === snapCount;
const rebuildOk = rebuilt === rebuildCount && recovered === rebuildCount;
process.exit(finished.length >= sectors && verified >= sectors && provedOk && dealsOk && snapOk && rebuildOk ? 0 : 1);
