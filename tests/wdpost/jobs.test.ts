/**
 * The worker-prover's job store and API on the manager side: ids, allocation (atomic, filtered), the
 * heartbeat-timeout → retry → JobMaxTry → reset cycle, lifetime cleanup, the WorkerProver's waiting
 * (remove → re-create, final failure, abort), durability across kill -9, and the RPC surface over a
 * real socket. Time is a fake clock; nothing sleeps.
 */

import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Hono } from "hono";
import { openAuthenticator } from "../../src/core/auth/index.ts";
import { MetricsRegistry } from "../../src/core/metrics/index.ts";
import {
  mountRpc,
  type RpcCallError,
  RpcClient,
  RpcRegistry,
  type RunningServer,
  serve,
} from "../../src/core/rpc/index.ts";
import { postProofFromWireName, WdPoSt } from "../../src/core/sector/api-wdpost.ts";
import { postProofRustName } from "../../src/core/sector/proof.ts";
import { KVStore } from "../../src/core/store/index.ts";
import { createWorkerProverModule, jobInput, type WorkerProverModule } from "../../src/manager/wdpost/index.ts";
import { base58, canonicalInputJson, wdpostJobId } from "../../src/manager/wdpost/job-id.ts";
import { FakeClock, tempDir } from "../manager/helpers.ts";
import { bytes32, fakeTask, WINDOW_2KIB } from "./helpers.ts";

const CONFIG = { JobMaxTry: 2, HeartbeatTimeout: 15_000, JobLifetime: 25 * 3_600_000 };
const dir = tempDir("damocles-wdpost-");
let n = 0;

function setup(config = CONFIG) {
  const clock = new FakeClock();
  const store = KVStore.open(join(dir.path, `m${n++}.db`));
  const registry = new RpcRegistry();
  const mod = createWorkerProverModule({ store, config, registry, now: clock.now });
  opened.push(async () => {
    mod.stop();
    // Let an fsync still in flight finish: closing under it would leak the WAL handle.
    await store.sync();
    store.close();
  });
  return { clock, store, registry, mod, jobs: mod.jobs };
}

const opened: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const close of opened.splice(0)) await close();
});
afterAll(() => dir.remove());

async function createJob(mod: WorkerProverModule, over: Parameters<typeof fakeTask>[0] = {}) {
  const task = fakeTask(over);
  return (await mod.jobs.create(task.deadline, task.partitions, jobInput(task))).job;
}

describe("job ids", () => {
  test("base58 is the bitcoin alphabet with leading zeros as 1s", () => {
    expect(base58(new TextEncoder().encode("hello world"))).toBe("StV1DL6CwTryKyV");
    expect(base58(new Uint8Array([0, 0, 1]))).toBe("112");
    expect(base58(new Uint8Array(8))).toBe("11111111");
  });

  test("the id is a hash of the input: stable, order-independent, sensitive to every field", () => {
    const input = jobInput(fakeTask());
    const id = wdpostJobId(input);
    expect(id).toMatch(/^[1-9A-HJ-NP-Za-km-z]{1,11}$/);
    // Same content built in another key order, and the replicas given unsorted: same id.
    const reordered = {
      Seed: input.Seed,
      ProofType: input.ProofType,
      MinerId: input.MinerId,
      Sectors: [...input.Sectors!].reverse(),
    };
    expect(wdpostJobId(jobInput(fakeTask({ replicas: [...fakeTask().replicas].reverse() })))).toBe(id);
    expect(canonicalInputJson({ ...reordered, Sectors: input.Sectors })).toBe(canonicalInputJson(input));
    expect(canonicalInputJson(input).startsWith('{"Sectors":[{"SectorId":1,"CommR":[')).toBe(true);
    expect(wdpostJobId(jobInput(fakeTask({ seed: bytes32("other seed") })))).not.toBe(id);
    expect(wdpostJobId(jobInput(fakeTask({ minerId: 1001 })))).not.toBe(id);
    // Deadline and partitions are not part of the input (as in Go): the proof is the same.
    expect(wdpostJobId(jobInput(fakeTask({ deadline: 3, partitions: [1, 2] })))).toBe(id);
  });

  test("ProofType travels as the rust-fil-proofs name; the Go name is read as an alias", () => {
    expect(postProofRustName(WINDOW_2KIB)).toBe("StackedDrgWindow2KiBV1_2");
    expect(jobInput(fakeTask()).ProofType).toBe("StackedDrgWindow2KiBV1_2");
    expect(postProofFromWireName("StackedDrgWindow2KiBV1_2")).toBe(WINDOW_2KIB);
    expect(postProofFromWireName("StackedDrgWindow2KiBV1_1")).toBe(WINDOW_2KIB);
    expect(postProofFromWireName("StackedDrgWindow2KiBV1")).toBe(5);
    expect(postProofFromWireName("nonsense")).toBeUndefined();
  });

  test("creating the same task twice returns the existing job", async () => {
    const { mod } = setup();
    const a = await mod.jobs.create(1, [0], jobInput(fakeTask()));
    const b = await mod.jobs.create(1, [0], jobInput(fakeTask()));
    expect(a.created).toBe(true);
    expect(b.created).toBe(false);
    expect(b.job.Id).toBe(a.job.Id);
    expect(mod.jobs.all()).toHaveLength(1);
  });
});

describe("allocation", () => {
  test("filters by AllowedMiners and AllowedProofTypes (either name); empty lists allow all", async () => {
    const { jobs, mod } = setup();
    const j1000 = await createJob(mod);
    const j1001 = await createJob(mod, { minerId: 1001 });
    expect(await jobs.allocate({ AllowedMiners: [2000], AllowedProofTypes: null }, 5, "w")).toEqual([]);
    expect(
      await jobs.allocate({ AllowedMiners: null, AllowedProofTypes: ["StackedDrgWindow32GiBV1_2"] }, 5, "w"),
    ).toEqual([]);
    const byMiner = await jobs.allocate(
      { AllowedMiners: [1001], AllowedProofTypes: ["StackedDrgWindow2KiBV1_1"] },
      5,
      "w1",
    );
    expect(byMiner.map((j) => j.Id)).toEqual([j1001.Id]);
    const rest = await jobs.allocate({ AllowedMiners: [], AllowedProofTypes: [] }, 5, "w2");
    expect(rest.map((j) => j.Id)).toEqual([j1000.Id]);
    expect(rest[0]!.Input.Sectors).toHaveLength(2);
    const running = jobs.get(j1000.Id)!;
    expect(running).toMatchObject({ State: "running", TryNum: 1, WorkerName: "w2" });
    expect(await jobs.allocate({}, 5, "w3")).toEqual([]);
  });

  test("oldest first, at most num", async () => {
    const { jobs, mod, clock } = setup();
    const first = await createJob(mod, { seed: bytes32("a") });
    clock.advance(5_000);
    await createJob(mod, { seed: bytes32("b") });
    const got = await jobs.allocate({}, 1, "w");
    expect(got.map((j) => j.Id)).toEqual([first.Id]);
  });

  test("concurrent workers over a real socket never get the same job", async () => {
    const { mod, registry } = setup();
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) ids.add((await createJob(mod, { seed: bytes32(`s${i}`) })).Id);
    const app = new Hono();
    mountRpc(app, registry, openAuthenticator);
    const server: RunningServer = serve({ auth: openAuthenticator, app, registry, hostname: "127.0.0.1", port: 0 });
    const clients = Array.from({ length: 8 }, () => new RpcClient(server.url));
    try {
      const answers = await Promise.all(
        clients.map((c, i) =>
          c.call(WdPoSt.AllocateJobs, { AllowedMiners: null, AllowedProofTypes: null }, 2, `worker-${i}`),
        ),
      );
      const handed = answers.flatMap((a) => a ?? []).map((j) => j.Id);
      expect(handed.length).toBe(5);
      expect(new Set(handed)).toEqual(ids);
      expect(mod.jobs.counts()).toEqual({ ready2run: 0, running: 5, succeeded: 0, failed: 0 });
    } finally {
      for (const c of clients) c.close();
      await server.stop();
    }
  });
});

describe("heartbeats, retries, JobMaxTry, reset", () => {
  test("no heartbeat for HeartbeatTimeout → failed and retried; after JobMaxTry it stays failed; reset revives it", async () => {
    const { jobs, mod, clock } = setup();
    const job = await createJob(mod);
    await jobs.allocate({}, 1, "w1");
    // Heartbeats keep it alive well past the timeout.
    for (let i = 0; i < 10; i++) {
      clock.advance(3_000);
      jobs.heartbeat([job.Id], "w1");
      expect(jobs.sweep().timedOut).toEqual([]);
    }
    // A heartbeat from another worker does not count.
    clock.advance(10_000);
    jobs.heartbeat([job.Id], "someone-else");
    clock.advance(7_000);
    expect(jobs.sweep().timedOut).toEqual([job.Id]);
    expect(jobs.get(job.Id)).toMatchObject({
      State: "ready2run",
      TryNum: 1,
      ErrorReason: "heartbeat timeout",
      WorkerName: "w1",
    });

    await jobs.allocate({}, 1, "w2");
    expect(jobs.get(job.Id)).toMatchObject({ State: "running", TryNum: 2, ErrorReason: "" });
    clock.advance(17_000);
    expect(jobs.sweep().timedOut).toEqual([job.Id]);
    expect(jobs.get(job.Id)).toMatchObject({ State: "finished", TryNum: 2, ErrorReason: "heartbeat timeout" });
    // Nothing brings it back by itself.
    clock.advance(60_000);
    expect(jobs.sweep()).toEqual({ timedOut: [], requeued: [], expired: [] });
    expect(await jobs.allocate({}, 1, "w3")).toEqual([]);
    expect(mod.jobs.counts().failed).toBe(1);

    await jobs.reset(job.Id);
    expect(jobs.get(job.Id)).toMatchObject({
      State: "ready2run",
      TryNum: 0,
      ErrorReason: "",
      WorkerName: "",
      StartedAt: 0,
    });
    expect((await jobs.allocate({}, 1, "w3")).map((j) => j.Id)).toEqual([job.Id]);
  });

  test("an error result re-queues while tries are left; a late success is still taken; a success is never overwritten", async () => {
    const { jobs, mod } = setup();
    const job = await createJob(mod);
    await jobs.allocate({}, 1, "w1");
    await jobs.finish(job.Id, null, "disk on fire");
    expect(jobs.get(job.Id)).toMatchObject({ State: "ready2run", TryNum: 1, ErrorReason: "disk on fire" });
    await jobs.allocate({}, 1, "w2");
    await jobs.finish(job.Id, { proofs: ["AAEC"], faults: [2] }, "");
    expect(jobs.get(job.Id)).toMatchObject({
      State: "finished",
      ErrorReason: "",
      Output: { proofs: ["AAEC"], faults: [2] },
    });
    await jobs.finish(job.Id, null, "a stale worker's late error");
    expect(jobs.get(job.Id)).toMatchObject({ State: "finished", ErrorReason: "" });
  });

  test("a worker that was only slow takes its timed-out job back with its heartbeat", async () => {
    const { jobs, mod, clock } = setup();
    const job = await createJob(mod);
    await jobs.allocate({}, 1, "slow");
    clock.advance(20_000);
    jobs.sweep();
    expect(jobs.get(job.Id)?.State).toBe("ready2run");
    jobs.heartbeat([job.Id, "unknown-id"], "slow");
    expect(jobs.get(job.Id)).toMatchObject({ State: "running", WorkerName: "slow", TryNum: 1, ErrorReason: "" });
  });

  test("raising JobMaxTry re-queues jobs that had failed for good", async () => {
    const { store, mod, clock } = setup({ ...CONFIG, JobMaxTry: 1 });
    const job = await createJob(mod);
    await mod.jobs.allocate({}, 1, "w");
    await mod.jobs.finish(job.Id, null, "boom");
    expect(mod.jobs.get(job.Id)?.State).toBe("finished");
    const again = createWorkerProverModule({
      store,
      config: { ...CONFIG, JobMaxTry: 3 },
      registry: new RpcRegistry(),
      now: clock.now,
    });
    expect(again.jobs.sweep().requeued).toEqual([job.Id]);
    expect(again.jobs.get(job.Id)).toMatchObject({ State: "ready2run", TryNum: 1 });
  });
});

describe("lifetime", () => {
  test("jobs older than JobLifetime are deleted, except unfinished ones a prover still waits for", async () => {
    const { jobs, mod, clock } = setup({ ...CONFIG, JobLifetime: 3_600_000 });
    const done = await createJob(mod, { seed: bytes32("done") });
    await jobs.allocate({}, 1, "w");
    await jobs.finish(done.Id, { proofs: [], faults: [] }, "");
    const stale = await createJob(mod, { seed: bytes32("stale") });
    const wanted = fakeTask({ seed: bytes32("wanted") });
    const ac = new AbortController();
    const waiting = mod.prover.generateWindowPoSt(wanted, ac.signal).catch((e: Error) => e);
    const wantedId = wdpostJobId(jobInput(wanted));
    await waitFor(() => mod.prover.isWaitingFor(wantedId) || undefined);
    clock.advance(30 * 60_000);
    expect(jobs.sweep().expired).toEqual([]);
    clock.advance(31 * 60_000);
    expect(jobs.sweep().expired.sort()).toEqual([done.Id, stale.Id].sort());
    expect(jobs.get(wantedId)?.State).toBe("ready2run");
    ac.abort(new Error("deadline passed"));
    expect(((await waiting) as Error).message).toBe("deadline passed");
    expect(jobs.sweep().expired).toEqual([wantedId]);
  });
});

describe("WorkerProver", () => {
  test("waits for the worker's result and returns proofs and faults", async () => {
    const { jobs, mod } = setup();
    const task = fakeTask();
    const result = mod.prover.generateWindowPoSt(task);
    const [alloc] = await waitAllocate(jobs);
    expect(alloc!.Input).toEqual(jobInput(task));
    jobs.heartbeat([alloc!.Id], "w");
    await jobs.finish(alloc!.Id, { proofs: [Buffer.from("proof").toString("base64")], faults: [2] }, "");
    const out = await result;
    expect(out.faults).toEqual([2]);
    expect(out.proofs).toHaveLength(1);
    expect(out.proofs[0]!.postProof).toBe(WINDOW_2KIB);
    expect(Buffer.from(out.proofs[0]!.proof).toString()).toBe("proof");
    // The same task again is answered from the finished job.
    expect((await mod.prover.generateWindowPoSt(task)).faults).toEqual([2]);
  });

  test("a job removed while waiting is created again; the new one can succeed", async () => {
    const { jobs, mod } = setup();
    const result = mod.prover.generateWindowPoSt(fakeTask());
    const [first] = await waitAllocate(jobs);
    await jobs.finish(first!.Id, null, "first try failed");
    await jobs.remove(first!.Id);
    // Re-created under the same id, with fresh tries.
    const again = await waitFor(() => jobs.get(first!.Id));
    expect(again).toMatchObject({ State: "ready2run", TryNum: 0, ErrorReason: "" });
    const [second] = await waitAllocate(jobs);
    await jobs.finish(second!.Id, { proofs: [], faults: [1, 2] }, "");
    expect((await result).faults).toEqual([1, 2]);
  });

  test("after JobMaxTry failed tries it rejects with the worker's error and the reset hint", async () => {
    const { jobs, mod } = setup();
    const result = mod.prover.generateWindowPoSt(fakeTask()).catch((e: Error) => e);
    const [a] = await waitAllocate(jobs);
    await jobs.finish(a!.Id, null, "store persist-1 is not attached");
    await waitAllocate(jobs);
    await jobs.finish(a!.Id, null, "store persist-1 is not attached");
    const err = (await result) as Error;
    expect(err.message).toContain(
      `WindowPoSt job ${a!.Id} (miner 1000, deadline 1) failed after 2 tries: store persist-1 is not attached`,
    );
    expect(err.message).toContain(`damocles util worker wdpost reset ${a!.Id}`);
  });

  test("an aborted signal stops the wait and leaves the job", async () => {
    const { jobs, mod } = setup();
    const ac = new AbortController();
    const result = mod.prover.generateWindowPoSt(fakeTask(), ac.signal).catch((e: Error) => e);
    await waitFor(() => jobs.all()[0]);
    ac.abort(new Error("deadline 1 closed"));
    expect(((await result) as Error).message).toBe("deadline 1 closed");
    expect(jobs.all()).toHaveLength(1);
    const pre = new AbortController();
    pre.abort(new Error("already late"));
    await expect(mod.prover.generateWindowPoSt(fakeTask({ seed: bytes32("x") }), pre.signal)).rejects.toThrow(
      "already late",
    );
  });
});

describe("API and metrics", () => {
  test("admin methods over a socket; unknown ids and bad params are named", async () => {
    const { mod, registry } = setup();
    const job = await createJob(mod);
    const app = new Hono();
    mountRpc(app, registry, openAuthenticator);
    const server = serve({ auth: openAuthenticator, app, registry, hostname: "127.0.0.1", port: 0 });
    const c = new RpcClient(server.url);
    try {
      const all = await c.call(WdPoSt.AllJobs);
      expect(all.MaxTry).toBe(2);
      expect(all.Jobs).toEqual([
        expect.objectContaining({
          Id: job.Id,
          State: "ready2run",
          DeadlineIdx: 1,
          Partitions: [0],
          Sectors: 2,
          Faults: 0,
        }),
      ]);
      expect(all.Jobs![0]!.Input.Sectors).toBeNull();
      await expect(c.call(WdPoSt.ResetJob, "nope")).rejects.toThrow('jobID: WindowPoSt job "nope" does not exist');
      await expect(c.call(WdPoSt.RemoveJob, "nope")).rejects.toThrow('"nope" does not exist');
      await expect(c.call(WdPoSt.FinishJob, job.Id, null, "")).rejects.toThrow(
        "give either an output or an errorReason",
      );
      const bad = (await c
        .callRaw("Venus.WdPoStAllocateJobs", [{ AllowedMiners: ["x"] }, 1, "w"])
        .catch((e: RpcCallError) => e)) as RpcCallError;
      expect(bad.code).toBe(-32602);
      expect(bad.rpcMessage).toContain('"spec.AllowedMiners.0"');
      const noName = (await c
        .callRaw("Venus.WdPoStHeartbeatJobs", [[job.Id], ""])
        .catch((e: RpcCallError) => e)) as RpcCallError;
      expect(noName.rpcMessage).toContain("workerName must not be empty");
      expect(await c.call(WdPoSt.HeartbeatJobs, null, "w")).toBeNull();
      await c.call(WdPoSt.RemoveJob, job.Id);
      expect((await c.call(WdPoSt.AllJobs)).Jobs).toEqual([]);
    } finally {
      c.close();
      await server.stop();
    }
  });

  test("job counts by state and per-try elapsed seconds", async () => {
    const { jobs, mod, clock } = setup();
    const metrics = new MetricsRegistry("damocles_manager_");
    mod.registerMetrics(metrics);
    const job = await createJob(mod);
    await createJob(mod, { seed: bytes32("other") });
    await jobs.allocate({}, 1, "w");
    clock.advance(42_000);
    await jobs.finish(job.Id, { proofs: [], faults: [] }, "");
    const text = metrics.render();
    expect(text).toContain('damocles_manager_wdpost_job_count{state="ready2run"} 1\n');
    expect(text).toContain('damocles_manager_wdpost_job_count{state="succeeded"} 1\n');
    expect(text).toContain('damocles_manager_wdpost_job_elapsed_seconds_sum{result="ok"} 42\n');
  });
});

describe("durability", () => {
  test("created and allocated jobs survive kill -9 of the manager process", async () => {
    const path = join(dir.path, "killed.db");
    const script = `
      import { KVStore } from "${join(import.meta.dir, "../../src/core/store/index.ts")}";
      import { RpcRegistry } from "${join(import.meta.dir, "../../src/core/rpc/index.ts")}";
      import { createWorkerProverModule, jobInput } from "${join(import.meta.dir, "../../src/manager/wdpost/index.ts")}";
      import { fakeTask } from "${join(import.meta.dir, "helpers.ts")}";
      const store = KVStore.open(${JSON.stringify(path)});
      const mod = createWorkerProverModule({ store, config: ${JSON.stringify(CONFIG)}, registry: new RpcRegistry() });
      const t = fakeTask();
      await mod.jobs.create(t.deadline, t.partitions, jobInput(t));
      await mod.jobs.allocate({}, 1, "w-before-crash");
      console.log("ready");
      await new Promise(() => {});
    `;
    const proc = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "pipe" });
    const reader = proc.stdout.getReader();
    let out = "";
    while (!out.includes("ready")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`child exited: ${await new Response(proc.stderr).text()}`);
      out += new TextDecoder().decode(value);
    }
    proc.kill("SIGKILL");
    await proc.exited;
    const store = KVStore.open(path);
    opened.push(async () => {
      await store.sync();
      store.close();
    });
    const mod = createWorkerProverModule({ store, config: CONFIG, registry: new RpcRegistry() });
    expect(mod.jobs.all()).toEqual([
      expect.objectContaining({
        Id: wdpostJobId(jobInput(fakeTask())),
        State: "running",
        WorkerName: "w-before-crash",
        TryNum: 1,
      }),
    ]);
  });
});

async function waitFor<T>(probe: () => T | undefined, ms = 5_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error("timed out");
    await Bun.sleep(2);
  }
}

/** Allocates as a worker would once a job is ready. */
async function waitAllocate(jobs: WorkerProverModule["jobs"]) {
  const end = Date.now() + 5_000;
  for (;;) {
    const got = await jobs.allocate({}, 1, "w");
    if (got.length > 0) return got;
    if (Date.now() > end) throw new Error("no job became ready");
    await Bun.sleep(2);
  }
}
