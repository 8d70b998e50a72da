/**
 * Worker management over real processes: a processor printing garbage pauses its thread with a readable
 * last_error, and `worker list` shows its numa_preferred policy in force; pause and resume work through
 * `worker …` and the manager's `util worker …`; resuming at Aborted drops the sector on both sides. No proofs
 * are computed: add_pieces is a broken processor.
 */

import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bearer, createToken } from "../../src/core/auth/index.ts";
import { RpcClient } from "../../src/core/rpc/client.ts";
import { Venus } from "../../src/core/sector/api.ts";
import { VenusWorker } from "../../src/core/sector/api-worker.ts";
import { runCli } from "../helpers/cli.ts";
import {
  logTail,
  type ManagerHandle,
  startManager,
  startWorker,
  until,
  type WorkerHandle,
} from "../helpers/cluster.ts";

const FAKE = join(import.meta.dir, "../fixtures/processors/fake.ts");
const tmp = mkdtempSync(join(tmpdir(), "damocles-wmgmt-"));
let manager: ManagerHandle;
let worker: WorkerHandle;
let workerApi: string;

beforeAll(async () => {
  manager = await startManager(join(tmp, "manager"));
  const store = join(tmp, "store0");
  const idle = join(tmp, "store1");
  await runCli(["worker", "store", "sealing-init", "-l", store, "-l", idle]);
  worker = startWorker(
    join(tmp, "worker"),
    `
[worker]
name = "mgmt-worker"
rpc_server.host = "127.0.0.1"
rpc_server.port = 0
ping_interval = "1s"
[sector_manager]
rpc_client.addr = "http://${manager.api}"
token = "${manager.workerToken}"
[sealing]
recover_interval = "1s"
rpc_polling_interval = "1s"
[[sealing_thread]]
location = "${store}"
[[sealing_thread]]
location = "${idle}"
sealing.allowed_miners = [4242]
[[attached]]
name = "persist-1"
location = "${join(manager.home, "persist-1")}"
[[processors.add_pieces]]
bin = "${process.execPath}"
args = ["${FAKE}", "add_pieces"]
envs = { FAKE_GARBAGE = "Error: libcuda.so not found, falling back to CPU" }
numa_preferred = 0
`,
  );
  const rpc = new RpcClient(manager.api, { headers: bearer(manager.token) });
  workerApi = await until(
    "the worker's ping",
    async () => (await rpc.call(Venus.WorkerGetPingInfo, "mgmt-worker"))?.Info.Dest,
    60_000,
  ).catch((err) => {
    throw new Error(`${err.message}\nworker log:\n${logTail(worker.log)}`);
  });
  rpc.close();
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await manager?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

test("a processor printing garbage pauses the thread with a readable last_error", async () => {
  const client = new RpcClient(workerApi, { headers: bearer(manager.token) });
  const t0 = await until(
    "thread #0 to pause",
    async () => {
      const list = await client.call(VenusWorker.WorkerList);
      return list[0]?.thread_state.state === "Paused" ? list[0] : undefined;
    },
    60_000,
  );
  client.close();
  expect(t0.job_state).toBe("DealsAcquired");
  expect(t0.last_error).toContain("permanent");
  expect(t0.last_error).toContain("not a protocol response");
  expect(t0.last_error).toContain("Error: libcuda.so not found");
  const list = await runCli(["worker", "list", "-H", workerApi, "--token", manager.token]);
  expect(list.code).toBe(0);
  expect(list.stdout).toContain("DealsAcquired");
  expect(list.stdout).toContain("not a protocol response");
  // The processor table: numa_preferred = 0 took effect without numactl (read back in the child before exec).
  const row = list.stdout.split("\n").find((l) => l.startsWith("add_pieces#0"));
  expect(row).toMatch(/^add_pieces#0\s+\d+\s+ready\s+0\s+preferred node 0\s+no cpuset; memory prefers NUMA node 0/);
}, 90_000);

test("pause and resume through the manager's util worker commands", async () => {
  const info = await runCli(["util", "worker", "info", "--api", manager.api, "--home", manager.home, "mgmt-worker"]);
  expect(info.code).toBe(0);
  expect(info.stdout.split("\n").filter((l) => /^\d+\s/.test(l))).toHaveLength(2);
  const paused = await runCli([
    "util",
    "worker",
    "pause",
    "--api",
    manager.api,
    "--home",
    manager.home,
    "mgmt-worker",
    "1",
  ]);
  expect(paused.stdout).toContain("paused thread #1");
  const client = new RpcClient(workerApi, { headers: bearer(manager.token) });
  expect((await client.call(VenusWorker.WorkerList))[1]?.thread_state.state).toBe("Paused");
  const resumed = await runCli([
    "util",
    "worker",
    "resume",
    "--api",
    manager.api,
    "--home",
    manager.home,
    "mgmt-worker",
    "1",
  ]);
  expect(resumed.stdout).toContain("resumed thread #1");
  expect((await client.call(VenusWorker.WorkerList))[1]?.thread_state.state).not.toBe("Paused");
  client.close();
}, 30_000);

test("resume --state Aborted drops the sector: the manager records the abort, the thread moves on", async () => {
  const r = await runCli([
    "worker",
    "resume",
    "-H",
    workerApi,
    "--token",
    manager.token,
    "--index",
    "0",
    "--state",
    "Aborted",
  ]);
  expect(r.code).toBe(0);
  const rpc = new RpcClient(manager.api, { headers: bearer(manager.token) });
  const aborted = await until(
    "the manager to record the abort",
    async () => {
      const offline = (await rpc.call(Venus.ListSectors, "offline", 0)) ?? [];
      return offline.find((s) => s.AbortReason !== "");
    },
    30_000,
  );
  rpc.close();
  expect(aborted.ID).toEqual({ Miner: 1000, Number: 1 });
  // The thread takes the next sector and meets the same broken processor again.
  const client = new RpcClient(workerApi, { headers: bearer(manager.token) });
  const next = await until(
    "the next sector",
    async () => {
      const t = (await client.call(VenusWorker.WorkerList))[0];
      return t?.job_id && t.job_id !== "s-t01000-1" ? t : undefined;
    },
    30_000,
  );
  client.close();
  expect(next.job_id).toBe("s-t01000-2");
}, 90_000);

test("worker pause/resume by index, and errors for an unknown index", async () => {
  const p = await runCli(["worker", "pause", "-H", workerApi, "--token", manager.token, "--index", "1"]);
  expect(p.stdout).toContain("thread #1 paused");
  const again = await runCli(["worker", "pause", "-H", workerApi, "--token", manager.token, "--index", "1"]);
  expect(again.stdout).toContain("already paused");
  const r = await runCli(["worker", "resume", "-H", workerApi, "--token", manager.token, "--index", "1"]);
  expect(r.stdout).toContain("thread #1 resumed");
  const bad = await runCli(["worker", "pause", "-H", workerApi, "--token", manager.token, "--index", "9"]);
  expect(bad.code).not.toBe(0);
  expect(bad.stderr).toContain("no sealing thread #9");
}, 30_000);

test("the worker's RPC checks tokens through its manager: read may list, only admin (or its own token) may pause", async () => {
  const call = async (method: string, params: unknown[], token?: string) => {
    const res = await fetch(`http://${workerApi}/rpc/v0`, {
      method: "POST",
      headers: bearer(token),
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    });
    return {
      status: res.status,
      ...((await res.json()) as { result?: unknown; error?: { code: number; message: string } }),
    };
  };
  const read = (await runCli(["util", "auth", "create-token", "--perm", "read", "--home", manager.home])).stdout.trim();
  const forged = await createToken(new Uint8Array(32), { name: "admin", perm: "admin" });

  expect((await call("VenusWorker.WorkerList", [])).error?.code).toBe(401);
  expect(Array.isArray((await call("VenusWorker.WorkerList", [], read)).result)).toBe(true);
  const denied = await call("VenusWorker.WorkerPause", [1], read);
  expect(denied.error?.code).toBe(403);
  expect(denied.error?.message).toContain("needs 'admin' permission");
  const refused = await call("VenusWorker.WorkerPause", [1], forged);
  expect(refused.status).toBe(401);
  const list = await new RpcClient(workerApi, { headers: bearer(manager.token) }).call(VenusWorker.WorkerList);
  expect(list[1]?.thread_state.state).not.toBe("Paused"); // none of the refused calls paused anything

  // Seed 004's form on the worker's host: the config file gives the address and the worker's own token.
  const own = await runCli(["worker", "-c", worker.config, "pause", "-H", workerApi, "--index", "1"]);
  expect(own.stdout).toContain("thread #1 paused");
  expect((await runCli(["worker", "-c", worker.config, "resume", "-H", workerApi, "--index", "1"])).code).toBe(0);
}, 30_000);

test("a worker without a token, or with a forged one, refuses to start and says how to get one", async () => {
  const forged = await createToken(new Uint8Array(32), { name: "w", perm: "write" });
  for (const [name, line, expected] of [
    ["no-token", "", "the manager requires a token"],
    ["forged", `token = "${forged}"`, "the manager refused sector_manager.token"],
  ] as const) {
    const w = startWorker(
      join(tmp, `worker-${name}`),
      `[sector_manager]\nrpc_client.addr = "http://${manager.api}"\n${line}\n[[sealing_thread]]\nlocation = "${join(tmp, "store1")}"\n`,
    );
    expect(await w.proc.exited).not.toBe(0);
    const log = logTail(w.log, 20);
    expect(log).toContain(expected);
    expect(log).toContain("damocles util auth create-token --perm write");
    expect(log).not.toContain(forged);
  }
}, 30_000);
