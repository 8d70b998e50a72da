/**
 * The wdpost plan in a real sealing thread against a manager API on a real socket (the job store on an
 * in-memory sqlite), with stand-in window_post plugins: no proofs here (wdpost-e2e.test.ts has them).
 * What is checked: the table; store names → [[attached]] paths; a stage error becomes the job's
 * errorReason without touching the thread; heartbeats while a job is held; MethodNotFound logged once;
 * a manager that stops answering aborts the job (never pauses the thread), and the next job is served.
 */

import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type ConsolaInstance, createConsola } from "consola";
import { Hono } from "hono";
import { openAuthenticator } from "../../src/core/auth/index.ts";
import type { AttachedStore } from "../../src/core/config/index.ts";
import { SEALING_DEFAULTS } from "../../src/core/config/index.ts";
import type { AnyStagePlugin } from "../../src/core/plugin/api.ts";
import { mountRpc, RpcClient, RpcRegistry, type RunningServer, serve } from "../../src/core/rpc/index.ts";
import { WdPoSt, type WdPoStAllocatedJob } from "../../src/core/sector/api-wdpost.ts";
import { KVStore } from "../../src/core/store/index.ts";
import { createWorkerProverModule, jobInput, type WorkerProverModule } from "../../src/manager/wdpost/index.ts";
import { nextState, PlanError } from "../../src/worker/planners/plan.ts";
import { wdpostPlan } from "../../src/worker/planners/wdpost.ts";
import { WdPoStLink } from "../../src/worker/planners/wdpost-link.ts";
import { MemoryJobStore } from "../../src/worker/planners/wdpost-memory-store.ts";
import { buildWindowPoStTask, wdpostSteps } from "../../src/worker/planners/wdpost-steps.ts";
import { StageRunner } from "../../src/worker/stages.ts";
import { erasePlan, SealingThread } from "../../src/worker/thread.ts";
import { until } from "../helpers/cluster.ts";
import { tempDir } from "../manager/helpers.ts";
import { bytes32, fakeTask } from "../wdpost/helpers.ts";

const dir = tempDir("damocles-wdpost-plan-");
afterAll(() => dir.remove());
const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

/** A logger whose lines the test can read. */
function capturingLog(): { log: ConsolaInstance; lines: string[] } {
  const lines: string[] = [];
  const log = createConsola({
    level: 4,
    reporters: [{ log: (o) => lines.push(`${o.type}: ${o.args.map(String).join(" ")}`) }],
  });
  return { log, lines };
}

function plugin(run: (task: unknown) => Promise<unknown>): AnyStagePlugin & { source: string } {
  return {
    name: "test-window-post",
    stage: "window_post",
    source: "test",
    input: { "~standard": { version: 1, vendor: "test", validate: (value: unknown) => ({ value }) } },
    run,
  };
}

interface Harness {
  registry: RpcRegistry;
  mod: WorkerProverModule;
  url: string;
  calls: string[];
}

/** The manager side: the real module's API on a real socket; `api` = false serves nothing (an old manager). */
async function manager(api = true): Promise<Harness> {
  const store = KVStore.open(":memory:");
  const registry = new RpcRegistry();
  const mod = createWorkerProverModule({
    store,
    config: { JobMaxTry: 2, HeartbeatTimeout: 15_000, JobLifetime: 3_600_000 },
    registry: api ? registry : new RpcRegistry(),
  });
  const calls: string[] = [];
  registry.observe((m) => calls.push(m));
  const app = new Hono();
  mountRpc(app, registry, openAuthenticator);
  const server: RunningServer = serve({ auth: openAuthenticator, app, registry, hostname: "127.0.0.1", port: 0 });
  closers.push(async () => {
    await server.stop();
    store.close();
  });
  return { registry, mod, url: server.url, calls };
}

function worker(
  url: string,
  run: (task: unknown) => Promise<unknown>,
  attached: AttachedStore[] = [],
  opts: { maxRetries?: number; heartbeatMs?: number } = {},
) {
  const { log, lines } = capturingLog();
  const rpc = new RpcClient(url, { timeoutMs: 2_000 });
  const link = new WdPoStLink(rpc, "w-test", log, opts.heartbeatMs ?? 3_000);
  const stages = new StageRunner(new Map([["window_post", plugin(run)]]), new Map(), { concurrent: {}, staggered: {} });
  const plan = erasePlan(wdpostSteps({ link, stages, attached }));
  const settings = { ...SEALING_DEFAULTS, recover_interval: 20, seal_interval: 5, max_retries: opts.maxRetries ?? 2 };
  const thread = new SealingThread({
    index: 0,
    location: "-",
    store: new MemoryJobStore(),
    resolve: async () => ({ plan, settings }),
    reporter: {
      reportState: async () => {
        throw new Error("a wdpost thread has no sector to report");
      },
      reportAborted: async () => {
        throw new Error("a wdpost thread has no sector to abort");
      },
    },
    log,
  });
  void thread.start();
  closers.push(async () => {
    await thread.stop();
    await link.stop();
    rpc.close();
  });
  return { thread, lines, link };
}

/** A store with the fixture layout for sectors 1 and 2 (files need only exist here). */
function storeWith(name: string, numbers: number[]): AttachedStore {
  const location = join(dir.path, name);
  for (const n of numbers) {
    mkdirSync(join(location, "sealed"), { recursive: true });
    writeFileSync(join(location, "sealed", `s-t01000-${n}`), "");
    mkdirSync(join(location, "cache", `s-t01000-${n}`), { recursive: true });
  }
  return { name, location, readonly: true };
}

describe("the wdpost table", () => {
  test("Empty → Allocated → Generated → Finished, stages as the Rust worker names them", () => {
    expect(nextState(wdpostPlan, "Empty", "Allocated")).toBe("Allocated");
    expect(nextState(wdpostPlan, "Allocated", "Generate")).toBe("Generated");
    expect(nextState(wdpostPlan, "Generated", "Finish")).toBe("Finished");
    expect(wdpostPlan.states.Allocated.stage).toBe("Generate");
    expect(wdpostPlan.states.Generated.stage).toBe("SubmitProof");
    expect(() => nextState(wdpostPlan, "Empty", "Generate")).toThrow(PlanError);
  });
});

describe("building the window_post task", () => {
  const job = (over: Partial<ReturnType<typeof jobInput>> = {}): WdPoStAllocatedJob => ({
    Id: "J",
    Input: { ...jobInput(fakeTask()), ...over },
  });

  test("store names resolve to [[attached]] locations; upgraded sectors use update/ and update-cache/", () => {
    const a = storeWith("store-a", [1, 2]);
    const input = jobInput(
      fakeTask({
        replicas: fakeTask().replicas.map((r) => ({ ...r, accesses: { sealedFile: "store-a", cacheDir: "store-a" } })),
      }),
    );
    input.Sectors![1] = {
      ...input.Sectors![1]!,
      Upgrade: true,
      Accesses: { SealedFile: "store-b", CacheDir: "store-a" },
    };
    const b: AttachedStore = { name: "store-b", location: "/mnt/b", readonly: true };
    const t = buildWindowPoStTask({ Id: "J", Input: input }, [a, b], "w");
    expect(t.proof_type).toBe("StackedDrgWindow2KiBV1_2");
    expect(t.miner_id).toBe(1000);
    expect(t.seed).toEqual(input.Seed);
    expect(t.replicas).toEqual([
      {
        sector_id: 1,
        comm_r: [...bytes32("commR 1")],
        sealed_file: join(a.location, "sealed/s-t01000-1"),
        cache_dir: join(a.location, "cache/s-t01000-1"),
      },
      {
        sector_id: 2,
        comm_r: [...bytes32("commR 2")],
        sealed_file: "/mnt/b/update/s-t01000-2",
        cache_dir: join(a.location, "update-cache/s-t01000-2"),
      },
    ]);
  });

  test("a store this worker does not attach is named; so is a job none of whose sectors is here", () => {
    expect(() => buildWindowPoStTask(job(), [{ name: "other", location: "/x", readonly: false }], "w1")).toThrow(
      'the sealed file of sector 1 is in store "persist-1", which is not among the [[attached]] stores of worker w1 (it has: other)',
    );
    const empty = { name: "persist-1", location: join(dir.path, "empty"), readonly: false };
    expect(() => buildWindowPoStTask(job(), [empty], "w1")).toThrow(
      `none of the 2 sector(s) is readable on worker w1: ${join(empty.location, "sealed/s-t01000-1")} does not exist`,
    );
    // One sector present is enough: the proof reports the other as a fault.
    const half = storeWith("persist-1", [2]);
    expect(buildWindowPoStTask(job(), [half], "w1").replicas).toHaveLength(2);
  });
});

describe("a wdpost thread", () => {
  test("proves, heartbeats while it holds the job, and hands the output in", async () => {
    const m = await manager();
    const store = storeWith("persist-1", [1, 2]);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const seen: unknown[] = [];
    const { thread } = worker(
      m.url,
      async (task) => {
        seen.push(task);
        await gate;
        return { proofs: ["cHJvb2Y="], faults: [] };
      },
      [store],
      { heartbeatMs: 30 },
    );
    const result = m.mod.prover.generateWindowPoSt(fakeTask());
    await until(
      "two heartbeats while proving",
      () => m.calls.filter((c) => c === "Venus.WdPoStHeartbeatJobs").length >= 2 || undefined,
      10_000,
      10,
    );
    expect(thread.status()).toMatchObject({
      plan: "wdpost",
      stage: "Generate",
      activity: { kind: "running", proc: "window_post" },
    });
    release();
    const out = await result;
    expect(Buffer.from(out.proofs[0]!.proof).toString()).toBe("proof");
    expect(seen).toHaveLength(1);
    const beats = m.calls.filter((c) => c === "Venus.WdPoStHeartbeatJobs").length;
    await until("the thread to be back at Empty", () => thread.status().job?.state === "Empty" || undefined, 5_000, 10);
    // Nothing held, nothing sent.
    expect(m.calls.filter((c) => c === "Venus.WdPoStHeartbeatJobs").length).toBeLessThanOrEqual(beats + 1);
  });

  test("a window_post error is the job's error: retried by the manager, the thread never pauses", async () => {
    const m = await manager();
    let runs = 0;
    const { thread } = worker(m.url, async () => {
      runs++;
      throw new Error("GPU fell off the bus");
    }, [storeWith("persist-1", [1, 2])]);
    const err = (await m.mod.prover.generateWindowPoSt(fakeTask()).catch((e: Error) => e)) as Error;
    expect(err.message).toContain("failed after 2 tries: window_post: GPU fell off the bus");
    expect(runs).toBe(2);
    expect(thread.status().paused).toBe(false);
    expect(thread.status().lastError).toBeUndefined();
  });

  test("MethodNotFound: the hint is logged once, and the thread keeps idling", async () => {
    const m = await manager(false);
    let rounds = 0;
    const answer = m.registry.answer.bind(m.registry);
    m.registry.answer = (text, grant) => {
      if (text.includes("Venus.WdPoStAllocateJobs")) rounds++;
      return answer(text, grant);
    };
    const { lines, thread } = worker(m.url, async () => ({ proofs: [], faults: [] }));
    await until("five allocation rounds", () => rounds >= 5 || undefined, 5_000, 10);
    const hints = lines.filter((l) =>
      l.includes(
        "the manager does not serve WdPoSt jobs: enable its worker-prover module (manager run --poster --worker-prover)",
      ),
    );
    expect(hints).toHaveLength(1);
    expect(thread.status().paused).toBe(false);
    expect(thread.status().job?.state).toBe("Empty");
  });

  test("a job the manager removed while it was being proven: its result is dropped, the thread goes on", async () => {
    const m = await manager();
    let releaseProof!: () => void;
    const proving = new Promise<void>((r) => {
      releaseProof = r;
    });
    let started = false;
    const { thread, lines } = worker(m.url, async () => {
      started = true;
      await proving;
      return { proofs: ["cHJvb2Y="], faults: [] };
    }, [storeWith("persist-1", [1, 2])]);
    const { job } = await m.mod.jobs.create(1, [0], jobInput(fakeTask()));
    await until("the worker to start proving", () => started || undefined, 10_000, 10);
    await m.mod.jobs.remove(job.Id);
    releaseProof();
    await until(
      "the result to be dropped",
      () => lines.find((l) => l.includes(`WindowPoSt job ${job.Id} was removed on the manager`)),
      10_000,
      10,
    );
    await until(
      "the thread to be idle again",
      () => (thread.status().job?.state === "Empty" ? true : undefined),
      10_000,
      10,
    );
    expect(thread.status().paused).toBe(false);
    expect(m.mod.jobs.get(job.Id)).toBeUndefined();
  });

  test("a manager that stops answering FinishJob: retried max_retries times, then the job is aborted and the next one served", async () => {
    const m = await manager();
    // FinishJob fails for the first job until the worker gives up; the abort's own report goes through.
    const flaky = new RpcRegistry();
    let finishCalls = 0;
    flaky.implement(WdPoSt.AllocateJobs, (spec, num, name) => m.mod.jobs.allocate(spec, num, name));
    flaky.implement(WdPoSt.HeartbeatJobs, (ids, name) => {
      m.mod.jobs.heartbeat(ids ?? [], name);
      return null;
    });
    flaky.implement(WdPoSt.FinishJob, async (id, output, reason) => {
      finishCalls++;
      if (finishCalls <= 3) throw new Error("database is locked");
      await m.mod.jobs.finish(id, output ?? null, reason);
      return null;
    });
    const app = new Hono();
    mountRpc(app, flaky, openAuthenticator);
    const server = serve({ auth: openAuthenticator, app, registry: flaky, hostname: "127.0.0.1", port: 0 });
    closers.push(() => server.stop());
    const { thread, lines } = worker(
      server.url,
      async () => ({ proofs: ["cHJvb2Y="], faults: [] }),
      [storeWith("persist-1", [1, 2])],
      { maxRetries: 2 },
    );
    const failures: string[] = [];
    m.mod.jobs.subscribe((ev) => {
      if (ev.type === "attempt" && !ev.ok) failures.push(ev.job.ErrorReason);
    });
    const first = fakeTask();
    const firstId = (await m.mod.jobs.create(1, [0], jobInput(first))).job.Id;
    // Try 1 + 2 retries fail; then the abort reports the job failed (the 4th call), which re-queues it at once.
    await until("the abort to reach the manager", () => failures.length > 0 || undefined, 10_000, 10);
    expect(failures[0]).toStartWith(
      "worker w-test aborted the job: Venus.WdPoStFinishJob: internal error in Venus.WdPoStFinishJob: database is locked",
    );
    expect(failures[0]).toEndWith("(gave up after 2 retries)");
    expect(finishCalls).toBeGreaterThanOrEqual(4);
    expect(thread.status().paused).toBe(false);
    expect(lines.some((l) => l.startsWith("warn:") && l.includes("database is locked"))).toBe(true);
    // The same worker takes it again and this time hands it in.
    const out = await m.mod.prover.generateWindowPoSt(first);
    expect(out.proofs).toHaveLength(1);
    expect(m.mod.jobs.get(firstId)).toMatchObject({ State: "finished", ErrorReason: "", TryNum: 2 });
  });
});
