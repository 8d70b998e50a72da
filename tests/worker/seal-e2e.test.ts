/**
 * The main job over real processes and real proofs: a devnet manager and a worker with two sealing threads
 * seal two 2KiB CC sectors through external pc1/pc2/c2 processors, and the devnet verifies both proofs.
 * On the way it is hurt the ways production hurts it:
 * - a pc1 child is killed with -9 while it works: auto_restart brings it back and the sector retries;
 * - the worker is killed with -9 during pc2 after the sealed file was half rewritten: on restart the
 *   `.pc2_running` guard restores the sealed file and the sector still proves.
 * The slow-down and the half-written file come from custom stage plugins in the worker's plugins/
 * directory, which also shows that plugins replace built-in stages (in external processors too).
 */

import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bearer } from "../../src/core/auth/index.ts";
import { RpcClient } from "../../src/core/rpc/client.ts";
import { Damocles, Venus } from "../../src/core/sector/api.ts";
import type { SectorState } from "../../src/core/sector/wire.ts";
import { REPO, runCli } from "../helpers/cli.ts";
import {
  logTail,
  type ManagerHandle,
  startManager,
  startWorker,
  until,
  type WorkerHandle,
} from "../helpers/cluster.ts";

const tmp = mkdtempSync(join(tmpdir(), "damocles-e2e-"));
const marks = join(tmp, "marks");
let manager: ManagerHandle;
let worker: WorkerHandle;
let rpc: RpcClient;
const workerDir = join(tmp, "worker");
let workerToml = "";

/** pc1 that takes two seconds first (room to kill its process), then seals for real. */
const slowPc1 = `import builtin from "${REPO}/src/plugins/pc1.ts";
import { appendFileSync } from "node:fs";
export default {
  ...builtin,
  name: "test-slow-pc1",
  async run(task, ctx) {
    appendFileSync("${marks}/pc1-calls", process.pid + "\\n");
    await Bun.sleep(2000);
    return builtin.run(task, ctx);
  },
};
`;

/**
 * pc2 whose first run leaves what an interrupted PC2 leaves: the start of the sealed file rewritten in
 * place, and partial tree-c / tree-r-last files in the cache. Then it hangs until the worker is killed.
 * Later runs are the real pc2.
 */
const tornPc2 = `import builtin from "${REPO}/src/plugins/pc2.ts";
import { existsSync, openSync, writeSync, closeSync, writeFileSync } from "node:fs";
export default {
  ...builtin,
  name: "test-torn-pc2",
  async run(task, ctx) {
    const once = "${marks}/pc2-torn";
    if (!existsSync(once)) {
      const fd = openSync(task.sealed_file, "r+");
      writeSync(fd, Buffer.alloc(1024, 0xab), 0, 1024, 0);
      closeSync(fd);
      for (const f of ["sc-02-data-tree-c.dat", "sc-02-data-tree-r-last.dat"]) writeFileSync(task.cache_dir + "/" + f, Buffer.alloc(96, 0x11));
      writeFileSync(once, task.sealed_file);
      await new Promise(() => {}); // the worker is killed while we are "encoding"
    }
    return builtin.run(task, ctx);
  },
};
`;

function sectorsDone(all: SectorState[]): SectorState[] {
  return all.filter((s) => s.Finalized && s.AbortReason === "");
}

async function listAll(): Promise<SectorState[]> {
  const on = (await rpc.call(Venus.ListSectors, "online", 0)) ?? [];
  const off = (await rpc.call(Venus.ListSectors, "offline", 0)) ?? [];
  return [...on, ...off];
}

async function reached(state: string, what: string, ms: number): Promise<SectorState> {
  return until(
    what,
    async () => (await listAll()).find((s) => s.LatestState?.StateChange.Next === state),
    ms,
    50,
  ).catch((err) => {
    throw new Error(`${err.message}\n--- worker log:\n${logTail(worker.log, 60)}`);
  });
}

function childPid(stage: string): number {
  const lines = readFileSync(worker.log, "utf8")
    .split("\n")
    .filter((l) => l.includes(`processor:${stage}#0`) && l.includes("ready (pid"));
  const m = /ready \(pid (\d+)/.exec(lines.at(-1) ?? "");
  if (!m) throw new Error(`no ${stage} child in the worker log`);
  return Number(m[1]);
}

beforeAll(async () => {
  mkdirSync(marks, { recursive: true });
  manager = await startManager(join(tmp, "manager"), (cfg) => cfg.replace("#MaxNumber = 1000000", "MaxNumber = 2"));
  rpc = new RpcClient(manager.api, { headers: bearer(manager.token) });
  const stores = [join(tmp, "store0"), join(tmp, "store1")];
  await runCli(["worker", "store", "sealing-init", "-l", ...stores]);
  mkdirSync(join(workerDir, "plugins"), { recursive: true });
  writeFileSync(join(workerDir, "plugins", "slow-pc1.ts"), slowPc1);
  writeFileSync(join(workerDir, "plugins", "torn-pc2.ts"), tornPc2);
  workerToml = `
[worker]
name = "e2e-worker"
rpc_server.host = "127.0.0.1"
rpc_server.port = 0
[sector_manager]
rpc_client.addr = "http://${manager.api}"
token = "${manager.workerToken}"
[sealing]
allowed_sizes = ["2KiB"]
max_retries = 5
seal_interval = "1s"
recover_interval = "1s"
rpc_polling_interval = "1s"
${stores.map((s) => `[[sealing_thread]]\nlocation = "${s}"`).join("\n")}
[[attached]]
name = "persist-1"
location = "${join(manager.home, "persist-1")}"
[processors.limitation.concurrent]
c2 = 1
[[processors.pc1]]
[[processors.pc2]]
[[processors.c2]]
`;
  worker = startWorker(workerDir, workerToml);
}, 120_000);

afterAll(async () => {
  rpc?.close();
  await worker?.stop();
  await manager?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

test("a pc1 child killed mid-task is restarted and the sector retries", async () => {
  await reached("TicketAssigned", "a sector to start PC1", 120_000);
  // The slow pc1 plugin marks each call: wait until PC1 is inside the child, then kill that child.
  await until("pc1 to be running in its child", () => existsSync(join(marks, "pc1-calls")) || undefined, 30_000, 20);
  const pid = childPid("pc1");
  process.kill(pid, "SIGKILL");
  await until("the pc1 child to be restarted", () => childPid("pc1") !== pid || undefined, 30_000);
  await reached("PC1Done", "a sector to finish PC1 after the retry", 120_000);
  const log = readFileSync(worker.log, "utf8");
  expect(log).toContain("child process exited: pc1");
  expect(log).toMatch(/processor:pc1#0.*exited \(signal SIGKILL\); restarting/);
}, 300_000);

test("kill -9 of the worker during pc2 does not corrupt the sealed file", async () => {
  await until("pc2 to tear the sealed file", () => existsSync(join(marks, "pc2-torn")) || undefined, 180_000, 50);
  worker.proc.kill("SIGKILL");
  await worker.proc.exited;
  worker = startWorker(workerDir, workerToml);
  const done = await until(
    "both sectors to be sealed, proven and finalized",
    async () => {
      const all = await listAll();
      const failed = all.find((s) => s.AbortReason !== "");
      if (failed) throw new Error(`sector ${failed.ID.Number} aborted: ${failed.AbortReason}`);
      const d = sectorsDone(all);
      return d.length === 2 ? d : undefined;
    },
    900_000,
    1000,
  ).catch((err) => {
    throw new Error(`${err.message}\n--- worker log:\n${logTail(worker.log, 60)}`);
  });
  expect(done.map((s) => s.ID.Number).sort()).toEqual([1, 2]);
  expect(readFileSync(worker.log, "utf8")).toContain(
    "PC2 was interrupted; restoring the sealed file from the staged copy",
  );
  // The devnet activated both sectors only after verifying their ProveCommits with verify_seal.
  const head = await rpc.call(Damocles.ChainHead);
  expect(head.Miners.find((m) => m.Actor === 1000)?.ActiveSectors).toBe(2);
  // Both sectors' files reached the persist store the manager indexed.
  for (const n of [1, 2]) {
    const found = await rpc.call(Venus.SectorIndexerFind, "normal", { Miner: 1000, Number: n });
    expect(found.Found).toBe(true);
    expect(existsSync(join(manager.home, "persist-1", "sealed", `s-t01000-${n}`))).toBe(true);
  }
  expect(readFileSync(join(marks, "pc1-calls"), "utf8").trim().split("\n").length).toBeGreaterThanOrEqual(3);
}, 1_200_000);
