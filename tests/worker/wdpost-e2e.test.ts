/**
 * Worker-prover mode end to end (seed 002): a real manager with the worker-prover module on a real
 * socket, real `damocles worker run` processes with a wdpost thread, real 2KiB WindowPoSt proofs over
 * the shared fixture replicas, each verified with verify_window_post.
 * - before the module is registered, the worker says once what to enable and idles;
 * - a proof made in a [[processors.window_post]] child verifies;
 * - the worker holding a job is killed with -9: after HeartbeatTimeout a second worker proves it;
 * - a job whose sector files this worker lacks fails until JobMaxTry and stops; once the files are
 *   there, `util worker wdpost reset` revives it and it proves; the CLI lists it all.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { verifyWindowPost } from "../../src/core/proofs/index.ts";
import { type RunningManager, startManager } from "../../src/manager/daemon.ts";
import type { WindowPoStTask } from "../../src/manager/prover.ts";
import {
  createWorkerProverModule,
  jobInput,
  type WorkerProverConfig,
  type WorkerProverModule,
  wdpostJobId,
} from "../../src/manager/wdpost/index.ts";
import { builtinPlugins } from "../../src/plugins/index.ts";
import { layoutPersistStore, type PoStFixtureSector, postSectors2KiB } from "../fixtures/post-sectors.ts";
import { testAuth } from "../helpers/auth.ts";
import { REPO, runCli } from "../helpers/cli.ts";
import { logTail, startWorker, until, type WorkerHandle } from "../helpers/cluster.ts";
import { fakeVerifier, managerConfig, tempDir } from "../manager/helpers.ts";
import { bytes32, WINDOW_2KIB } from "../wdpost/helpers.ts";

const dir = tempDir("damocles-wdpost-e2e-");
const store = join(dir.path, "persist-1");
const marks = join(dir.path, "marks");
const HEARTBEAT_TIMEOUT_S = 5;
let manager: RunningManager;
let auth: Awaited<ReturnType<typeof testAuth>>;
let proverConfig: WorkerProverConfig;
let module: WorkerProverModule | undefined;
let sectors: PoStFixtureSector[];
const workers: WorkerHandle[] = [];

/** A window_post that announces itself and never finishes: the job stays held until the worker dies. */
const hangingWindowPost = `import { appendFileSync } from "node:fs";
export default {
  name: "test-hanging-window-post",
  stage: "window_post",
  input: { "~standard": { version: 1, vendor: "test", validate: (value) => ({ value }) } },
  async run() {
    appendFileSync(${JSON.stringify(join(marks, "hanging"))}, process.pid + "\\n");
    await new Promise(() => {});
  },
};
`;

/** Until the built-in window_post plugin lands, the workers get a stand-in with the same wire shapes. */
const standInWindowPost = `import { generateWindowPost } from "${REPO}/src/core/proofs/index.ts";
const u8 = (a) => Uint8Array.from(a);
const ids = { StackedDrgWindow2KiBV1_2: 10, StackedDrgWindow2KiBV1_1: 10 };
export default {
  name: "test-stand-in-window-post",
  stage: "window_post",
  input: { "~standard": { version: 1, vendor: "test", validate: (value) => ({ value }) } },
  async run(t) {
    const r = await generateWindowPost({ postProof: ids[t.proof_type], randomness: u8(t.seed), proverId: t.miner_id,
      replicas: t.replicas.map((x) => ({ sectorId: x.sector_id, commR: u8(x.comm_r), cacheDir: x.cache_dir, sealedPath: x.sealed_file })) });
    return { proofs: r.proofs.map((p) => Buffer.from(p.proof).toString("base64")), faults: r.faults };
  },
};
`;

function workerToml(name: string, opts: { external?: boolean } = {}): string {
  return `
[worker]
name = "${name}"
rpc_server.host = "127.0.0.1"
rpc_server.port = 0
[sector_manager]
rpc_client.addr = "${manager.url}"
token = "${auth.tokens.write}"
[[sealing_thread]]
plan = "wdpost"
sealing.allowed_miners = [1000]
sealing.allowed_sizes = ["2KiB"]
sealing.recover_interval = "500ms"
sealing.seal_interval = "500ms"
sealing.max_retries = 3
[[attached]]
name = "persist-1"
location = "${store}"
[processors.limitation.concurrent]
window_post = 1
${opts.external ? "[[processors.window_post]]\n" : ""}`;
}

function spawnWorker(name: string, opts: { external?: boolean; plugin?: string } = {}): WorkerHandle {
  const wdir = join(dir.path, `${name}-${workers.length}`);
  const plugin = opts.plugin ?? (builtinPlugins.some((p) => p.stage === "window_post") ? undefined : standInWindowPost);
  if (plugin) {
    mkdirSync(join(wdir, "plugins"), { recursive: true });
    Bun.write(join(wdir, "plugins", "window-post.ts"), plugin);
  }
  const w = startWorker(wdir, workerToml(name, opts), { DAMOCLES_LOG_LEVEL: "debug" });
  workers.push(w);
  return w;
}

function task(numbers: number[], seedLabel: string, deadline: number): WindowPoStTask {
  return {
    minerId: 1000,
    proofType: WINDOW_2KIB,
    deadline,
    partitions: [0],
    replicas: sectors
      .filter((s) => numbers.includes(s.sectorId))
      .map((s) => ({
        sectorId: s.sectorId,
        commR: s.commR,
        upgrade: false,
        accesses: { sealedFile: "persist-1", cacheDir: "persist-1" },
        sealedPath: join(store, "sealed", `s-t01000-${s.sectorId}`),
        cacheDir: join(store, "cache", `s-t01000-${s.sectorId}`),
      })),
    seed: bytes32(seedLabel),
  };
}

async function verify(t: WindowPoStTask, proofs: { postProof: number; proof: Uint8Array }[]): Promise<boolean> {
  return verifyWindowPost({
    randomness: t.seed,
    proverId: t.minerId,
    proofs,
    replicas: t.replicas.map((r) => ({ sectorId: r.sectorId, commR: r.commR })),
  });
}

function prover() {
  if (!module) throw new Error("the worker-prover module is not registered");
  return module.prover;
}

function logs(): string {
  return workers.map((w) => `--- ${w.log}:\n${logTail(w.log, 30)}`).join("\n");
}

async function cli(...args: string[]) {
  return runCli([
    "util",
    "worker",
    "wdpost",
    ...args,
    "--api",
    manager.url.replace("http://", ""),
    "--token",
    auth.tokens.admin,
  ]);
}

beforeAll(async () => {
  mkdirSync(marks, { recursive: true });
  sectors = await postSectors2KiB();
  // Sectors 1-4 are on the store; 5 and 6 are missing until the reset test puts them there.
  layoutPersistStore(
    store,
    sectors.filter((s) => s.sectorId <= 4),
  );
  const config = managerConfig({
    Common: {
      PersistStores: [{ Name: "persist-1", Path: store }],
      Proving: { WorkerProver: { JobMaxTry: 2, HeartbeatTimeout: `${HEARTBEAT_TIMEOUT_S}s`, JobLifetime: "25h" } },
      Devnet: { BlockTime: "1s", Miners: [{ Actor: 1000, SectorSize: "2KiB" }] },
    },
    Miners: [{ Actor: 1000 }],
  });
  proverConfig = config.Common.Proving.WorkerProver;
  expect(proverConfig.HeartbeatTimeout).toBe(HEARTBEAT_TIMEOUT_S * 1000);
  auth = await testAuth(join(dir.path, "manager"));
  manager = await startManager({
    auth,
    home: join(dir.path, "manager"),
    config,
    hostname: "127.0.0.1",
    port: 0,
    verifier: fakeVerifier(),
  });
}, 300_000);

afterAll(async () => {
  for (const w of workers) w.proc.kill("SIGKILL");
  await Promise.all(workers.map((w) => w.proc.exited));
  module?.stop();
  await manager?.stop();
  dir.remove();
});

test("a manager without the worker-prover module: the worker says what to enable, once, and idles", async () => {
  // Count the worker's allocation rounds as they reach the manager (MethodNotFound is answered before
  // any RPC observer sees the call).
  let rounds = 0;
  const registry = manager.registry;
  const answer = registry.answer.bind(registry);
  registry.answer = (text, grant) => {
    if (text.includes("Venus.WdPoStAllocateJobs")) rounds++;
    return answer(text, grant);
  };
  try {
    const w = spawnWorker("w-early");
    await until("three allocation rounds", () => rounds >= 3 || undefined, 60_000, 20).catch((err) => {
      throw new Error(`${err.message}\n${logs()}`);
    });
    const hints =
      readFileSync(w.log, "utf8").match(
        /the manager does not serve WdPoSt jobs: enable its worker-prover module \(manager run --poster --worker-prover\)/g,
      ) ?? [];
    expect(hints.length).toBe(1);
    await w.stop("SIGTERM");
  } finally {
    registry.answer = answer;
  }
  module = createWorkerProverModule({
    store: manager.store,
    config: proverConfig,
    registry: manager.registry,
  });
  module.start();
}, 120_000);

test("a wdpost worker proves a real 2KiB WindowPoSt in a window_post processor child; it verifies", async () => {
  const w = spawnWorker("w-main", { external: true });
  const t = task([1, 2, 3], "e2e seed 1", 0);
  const out = await Promise.race([
    prover().generateWindowPoSt(t, AbortSignal.timeout(240_000)),
    w.proc.exited.then((code) => {
      throw new Error(`worker exited with ${code}\n${logs()}`);
    }),
  ]);
  expect(out.faults).toEqual([]);
  expect(out.proofs).toHaveLength(1);
  expect(out.proofs[0]!.postProof).toBe(WINDOW_2KIB);
  expect(await verify(t, out.proofs)).toBe(true);
  const job = module!.jobs.get(wdpostJobId(jobInput(t)))!;
  expect(job).toMatchObject({ State: "finished", ErrorReason: "", WorkerName: "w-main", TryNum: 1 });
  expect(readFileSync(w.log, "utf8")).toMatch(/processor:window_post#0.*ready \(pid/);
  await w.stop("SIGTERM");
}, 300_000);

test("kill -9 of the worker holding a job: after HeartbeatTimeout a second worker proves it", async () => {
  const holder = spawnWorker("w-doomed", { plugin: hangingWindowPost });
  const t = task([2, 4], "e2e seed 2", 1);
  const id = wdpostJobId(jobInput(t));
  const result = prover().generateWindowPoSt(t, AbortSignal.timeout(240_000));
  await until(
    "the doomed worker to be inside window_post",
    () => existsSync(join(marks, "hanging")) || undefined,
    120_000,
    50,
  ).catch((err) => {
    throw new Error(`${err.message}\n${logs()}`);
  });
  expect(module!.jobs.get(id)).toMatchObject({ State: "running", WorkerName: "w-doomed", TryNum: 1 });
  holder.proc.kill("SIGKILL");
  await holder.proc.exited;
  const killedAt = Date.now();

  const rescuer = spawnWorker("w-rescue");
  const out = await result.catch((err: Error) => {
    throw new Error(`${err.message}\n${logs()}`);
  });
  expect(Date.now() - killedAt).toBeGreaterThanOrEqual(HEARTBEAT_TIMEOUT_S * 1000);
  expect(out.faults).toEqual([]);
  expect(await verify(t, out.proofs)).toBe(true);
  expect(module!.jobs.get(id)).toMatchObject({ State: "finished", ErrorReason: "", WorkerName: "w-rescue", TryNum: 2 });
  await rescuer.stop("SIGTERM");
}, 300_000);

test("missing sector files fail the job up to JobMaxTry; reset revives it once the files are there; the CLI shows it", async () => {
  const w = spawnWorker("w-main");
  const t = task([5, 6], "e2e seed 3", 2);
  const id = wdpostJobId(jobInput(t));
  const err = (await prover()
    .generateWindowPoSt(t, AbortSignal.timeout(120_000))
    .catch((e: Error) => e)) as Error;
  expect(err).toBeInstanceOf(Error);
  expect(err.message).toContain(
    `failed after 2 tries: none of the 2 sector(s) is readable on worker w-main: ${join(store, "sealed", "s-t01000-5")} does not exist`,
  );
  const failed = module!.jobs.get(id)!;
  expect(failed).toMatchObject({ State: "finished", TryNum: 2 });

  const list = await cli("list");
  expect(list.code).toBe(0);
  const lines = list.stdout.trim().split("\n");
  expect(lines[0]!.split(/\s{2,}/)).toEqual([
    "JobID",
    "MinerID",
    "DDL",
    "Partitions",
    "Worker",
    "State",
    "Try",
    "CreateAt",
    "Elapsed",
    "Heartbeat",
    "Error",
  ]);
  const row = lines.find((l) => l.startsWith(id))!;
  expect(row).toMatch(
    new RegExp(
      `^${id}\\s+1000\\s+2\\s+0\\s+w-main\\s+Failed\\s+2\\(Max\\)\\s+\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\s+\\S+\\(done\\)\\s+-\\s+none of the 2 sector`,
    ),
  );
  // The succeeded jobs of the earlier tests show with --all only.
  expect(list.stdout).toContain("succeeded job(s) not shown; --all shows them");
  const all = await cli("list", "--all", "--detail");
  expect(all.stdout).toContain("Succeed");
  expect(all.stdout.split("\n")[0]).toContain("Sectors  Faults");

  const unknown = await cli("reset", "NoSuchJob");
  expect(unknown.code).not.toBe(0);
  expect(unknown.stderr).toContain('NoSuchJob: WindowPoSt job "NoSuchJob" does not exist');
  const refuse = await cli("remove-all");
  expect(refuse.code).toBe(2);
  expect(refuse.stderr).toContain("pass --really-do-it");

  layoutPersistStore(
    store,
    sectors.filter((s) => s.sectorId >= 5),
  );
  // Until an operator resets it, asking again for the same proof gets the same final failure.
  await expect(prover().generateWindowPoSt(t)).rejects.toThrow("failed after 2 tries");
  const reset = await cli("reset", id);
  expect(reset.stdout).toContain(`wdpost job ${id} reset`);
  const out = await prover()
    .generateWindowPoSt(t, AbortSignal.timeout(120_000))
    .catch((e: Error) => {
      throw new Error(`${e.message}\n${logs()}`);
    });
  expect(out.faults).toEqual([]);
  expect(await verify(t, out.proofs)).toBe(true);
  expect(module!.jobs.get(id)).toMatchObject({ State: "finished", ErrorReason: "", TryNum: 1 });
  await w.stop("SIGTERM");
}, 300_000);
