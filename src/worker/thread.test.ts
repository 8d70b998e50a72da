import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SEALING_DEFAULTS } from "../core/config/index.ts";
import { abort, Failure, permanent, temporary } from "../core/errors/index.ts";
import { logger } from "../core/log/index.ts";
import { RpcTransportError } from "../core/rpc/errors.ts";
import { ManagerUnreachable } from "./manager-client.ts";
import { definePlan } from "./planners/plan.ts";
import { type JobRecord, ThreadStateStore } from "./state/store.ts";
import { type ManagerReporter, type PlanImpl, SealingThread, type StepContext } from "./thread.ts";

const tmp = mkdtempSync(join(tmpdir(), "damocles-threadloop-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const table = definePlan({
  name: "toy",
  initial: "Empty",
  terminal: ["Finished", "Aborted"],
  states: {
    Empty: { stage: "Allocate", on: { Allocate: "A" } },
    A: { stage: "StepA", on: { DoA: "B" } },
    B: { stage: "StepB", on: { DoB: "Finished" } },
    Finished: { stage: "Finished", on: {} },
    Aborted: { stage: "Aborted", on: {} },
  },
});

type Behaviour = (state: string, ctx: StepContext) => Promise<void> | void;

function toyPlan(
  calls: string[],
  behaviour: Behaviour = () => {},
  sectors = 1,
  name = "toy",
): PlanImpl<string, string> {
  let allocated = 0;
  return {
    table: (name === "toy" ? table : { ...table, name }) as never,
    async exec(state, ctx) {
      calls.push(state);
      await behaviour(state, ctx);
      if (state === "Empty") {
        if (allocated >= sectors) return { idle: true };
        allocated++;
        return { event: "Allocate", sector: { miner: 1000, number: allocated, proof_type: 5 } };
      }
      if (state === "A") return { event: "DoA", patch: { a: "done" } };
      return { event: "DoB" };
    },
    async finish(job) {
      calls.push(`finish:${job.sector?.number}`);
    },
    async cleanup(job) {
      calls.push(`cleanup:${job.sector?.number}`);
    },
  };
}

function reporter(log: string[]): ManagerReporter {
  return {
    async reportState(_job, change, failure) {
      log.push(`${change.prev}->${change.next}@${change.event}${failure ? `!${failure.level}` : ""}`);
      return { finalized: false };
    },
    async reportAborted(job, reason) {
      log.push(`aborted:${job.sector?.number}:${reason}`);
    },
  };
}

const fast = { ...SEALING_DEFAULTS, recover_interval: 5, seal_interval: 5, max_retries: 2 };

function thread(name: string, plan: PlanImpl<string, string>, reports: string[]) {
  const store = new ThreadStateStore(join(tmp, name));
  return {
    store,
    t: new SealingThread({
      index: 0,
      location: join(tmp, name),
      store,
      resolve: async () => ({ plan, settings: fast }),
      reporter: reporter(reports),
      log: logger.withTag("test"),
    }),
  };
}

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}

describe("the sealing thread loop", () => {
  test("stopping a worker while a thread is paused on a failed step runs that step no more, and it stays paused", async () => {
    const calls: string[] = [];
    const reports: string[] = [];
    const failing = toyPlan(calls, (state) => {
      if (state === "A") throw permanent(new Error("disk full"));
    });
    const { t, store } = thread("stop-paused", failing, reports);
    void t.start();
    await until(() => t.status().paused, "the thread to pause on A");
    const runsOfA = calls.filter((c) => c === "A").length;
    await t.stop();
    expect(calls.filter((c) => c === "A").length).toBe(runsOfA);
    expect(store.load()?.paused_at).toBeNumber();
    expect(store.load()?.state).toBe("A");
  });

  test("walks the table, reports every step, finishes, then idles", async () => {
    const calls: string[] = [];
    const reports: string[] = [];
    const { t, store } = thread("happy", toyPlan(calls), reports);
    void t.start();
    await until(() => calls.includes("finish:1"), "finish");
    await t.stop();
    expect(reports).toEqual(["Empty->A@Allocate", "A->B@DoA", "B->Finished@DoB"]);
    expect(store.load()).toBeUndefined();
    expect(store.trace().map((e) => e.event)).toEqual(["Allocate", "DoA", "DoB"]);
  });

  test("temporary failures retry, then become permanent after max_retries and pause the thread", async () => {
    const calls: string[] = [];
    const reports: string[] = [];
    const { t, store } = thread(
      "temp",
      toyPlan(calls, (s) => {
        if (s === "A") throw temporary(new Error("manager unreachable"));
      }),
      reports,
    );
    void t.start();
    await until(() => t.status().paused, "pause");
    expect(calls.filter((c) => c === "A")).toHaveLength(3); // first try + 2 retries
    expect(reports.filter((r) => r.endsWith("!temporary"))).toHaveLength(2);
    expect(t.status().lastError).toBe("permanent: manager unreachable (gave up after 2 retries)");
    expect(store.load()?.paused_at).toBeNumber();
    await t.stop();
  });

  test("an unreachable manager mid-sector is waited out: no retry counted, no pause, `waiting on manager`", async () => {
    const calls: string[] = [];
    const reports: string[] = [];
    let down = true;
    const { t, store } = thread(
      "outage-running",
      toyPlan(calls, (s) => {
        if (s === "A" && down) throw new ManagerUnreachable(new RpcTransportError("cannot reach manager"));
      }),
      reports,
    );
    void t.start();
    // Many more rounds than max_retries (2): a temporary failure would have paused the thread by now.
    await until(() => calls.filter((c) => c === "A").length >= 8, "outage rounds");
    expect(t.status().paused).toBe(false);
    expect(t.status().activity).toEqual({ kind: "waiting", on: "manager" });
    expect(t.status().job?.retry).toBe(0);
    expect(t.status().lastError).toBeUndefined();
    down = false;
    await until(() => calls.includes("finish:1"), "finish after the outage");
    await t.stop();
    expect(reports).toEqual(["Empty->A@Allocate", "A->B@DoA", "B->Finished@DoB"]);
    expect(store.trace().map((e) => e.event)).toEqual(["Allocate", "DoA", "DoB"]);
  });

  test("an unreachable manager before allocation is an empty round, never a pause", async () => {
    const calls: string[] = [];
    let down = true;
    const { t, store } = thread(
      "outage-empty",
      toyPlan(calls, (s) => {
        if (s === "Empty" && down) throw new ManagerUnreachable(new RpcTransportError("cannot reach manager"));
      }),
      [],
    );
    void t.start();
    await until(() => calls.filter((c) => c === "Empty").length >= 8, "outage rounds");
    expect(t.status().paused).toBe(false);
    expect(t.status().activity).toEqual({ kind: "waiting", on: "manager" });
    expect(store.load()).toBeUndefined();
    down = false;
    await until(() => calls.includes("finish:1"), "a sector after the outage");
    await t.stop();
  });

  test("a paused thread resumes at a forced state, as `resume --state` does", async () => {
    const calls: string[] = [];
    let fail = true;
    const { t } = thread(
      "resume",
      toyPlan(calls, (s) => {
        if (s === "A" && fail) throw permanent(new Error("pc1 processor failed"));
      }),
      [],
    );
    void t.start();
    await until(() => t.status().paused, "pause");
    fail = false;
    expect(t.resume("B")).toBe(true);
    await until(() => calls.includes("finish:1"), "finish");
    expect(calls.filter((c) => c === "A")).toHaveLength(1); // resumed at B: A was not run again
    await t.stop();
  });

  test("abort reports to the manager, cleans up, and moves on to the next sector", async () => {
    const calls: string[] = [];
    const reports: string[] = [];
    const { t } = thread(
      "abort",
      toyPlan(
        calls,
        (s, ctx) => {
          if (s === "A" && ctx.job.sector?.number === 1) throw abort(new Error("sector state not found"));
        },
        2,
      ),
      reports,
    );
    void t.start();
    await until(() => calls.includes("finish:2"), "second sector");
    await t.stop();
    expect(reports).toContain("aborted:1:sector state not found");
    expect(calls).toContain("cleanup:1");
  });

  test("a new thread on the same store continues from the saved state (kill -9 and restart)", async () => {
    const loc = "resume-after-kill";
    const store = new ThreadStateStore(join(tmp, loc));
    const saved: JobRecord = {
      version: 1,
      plan: "toy",
      state: "B",
      prev_state: "A",
      retry: 0,
      sector: { miner: 1000, number: 42, proof_type: 5 },
      phases: { a: "done" },
    };
    store.save(saved);
    store.close();
    const calls: string[] = [];
    const { t } = thread(
      loc,
      toyPlan(calls, () => {}, 0),
      [],
    );
    void t.start();
    await until(() => calls.includes("finish:42"), "finish of the saved sector");
    await t.stop();
    expect(calls[0]).toBe("B");
  });

  test("a plan switched between sectors (hot config) is taken before the next task; an idle thread re-reads it after request_task_max_retries empty rounds", async () => {
    const calls: string[] = [];
    const idle = toyPlan(calls, () => {}, 0, "sealer");
    const rebuild = toyPlan(calls, () => {}, 1, "rebuild");
    let configured = idle;
    const resolved: (string | undefined)[] = [];
    const reportedPlans: string[] = [];
    const store = new ThreadStateStore(join(tmp, "hot-switch"));
    const t = new SealingThread({
      index: 0,
      location: join(tmp, "hot-switch"),
      store,
      resolve: async (keep) => {
        resolved.push(keep);
        return { plan: configured, settings: { ...fast, request_task_max_retries: 3 } };
      },
      reporter: {
        async reportState(job) {
          reportedPlans.push(job.plan);
          return { finalized: false };
        },
        async reportAborted() {},
      },
      log: logger.withTag("test"),
    });
    void t.start();
    // Idle rounds under "sealer": the plan is read again after every third empty answer, not at each.
    await until(() => calls.filter((c) => c === "Empty").length >= 7, "idle rounds");
    const empties = calls.filter((c) => c === "Empty").length;
    expect(resolved.length).toBe(Math.ceil(empties / 3));
    expect(t.status().plan).toBe("sealer");
    configured = rebuild;
    await until(() => calls.includes("finish:1"), "the next task under the new plan");
    expect(t.status().plan).toBe("rebuild");
    expect(store.trace().map((e) => e.event)).toEqual(["Allocate", "DoA", "DoB"]);
    // The job is the new plan's from its first state on (a restart resumes it under that plan).
    expect(reportedPlans).toEqual(["rebuild", "rebuild", "rebuild"]);
    expect(resolved.every((k) => k === undefined)).toBe(true);
    await t.stop();
  });

  test("a job under way keeps the plan it started with, whatever the hot config says meanwhile", async () => {
    const loc = "keep-plan";
    const store = new ThreadStateStore(join(tmp, loc));
    store.save({
      version: 1,
      plan: "rebuild",
      state: "A",
      prev_state: "Empty",
      retry: 0,
      sector: { miner: 1000, number: 7, proof_type: 5 },
      phases: {},
    });
    const calls: string[] = [];
    const plans: Record<string, PlanImpl<string, string>> = {
      rebuild: toyPlan(calls, () => {}, 0, "rebuild"),
      sealer: toyPlan(calls, () => {}, 1, "sealer"),
    };
    const resolved: (string | undefined)[] = [];
    const t = new SealingThread({
      index: 0,
      location: join(tmp, loc),
      store,
      // The hot config now says "sealer"; a saved job asks for its own plan by name.
      resolve: async (keep) => {
        resolved.push(keep);
        return { plan: plans[keep ?? "sealer"]!, settings: fast };
      },
      reporter: reporter([]),
      log: logger.withTag("test"),
    });
    void t.start();
    await until(() => calls.includes("finish:1"), "the saved job, then one sector under the configured plan");
    await t.stop();
    expect(resolved.slice(0, 2)).toEqual(["rebuild", undefined]);
    expect(calls.slice(0, 3)).toEqual(["A", "B", "finish:7"]);
  });

  test("unknown forced states are refused with the list of states", async () => {
    const { t } = thread(
      "badstate",
      toyPlan([], (s) => {
        if (s === "A") throw new Failure("permanent", "x");
      }),
      [],
    );
    void t.start();
    await until(() => t.status().paused, "pause");
    expect(() => t.resume("Nope")).toThrow('unknown state "Nope" for plan toy');
    await t.stop();
  });
});
