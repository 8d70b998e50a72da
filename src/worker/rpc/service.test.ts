import { expect, test } from "bun:test";
import type { ThreadStatus } from "../thread.ts";
import { threadInfo } from "./service.ts";

/** `worker list` / VenusWorker.WorkerList: what names a thread's job. */

const base: ThreadStatus = {
  index: 0,
  location: "",
  plan: "wdpost",
  job: undefined,
  stage: undefined,
  activity: { kind: "idle" },
  activitySince: 0,
  paused: false,
  pausedSince: undefined,
  lastError: undefined,
};

test("a sealing job is named by its sector, a wdpost job by the manager's job id, no job by null", () => {
  const job = { version: 1 as const, plan: "wdpost", state: "Allocated", retry: 0, phases: {} };
  expect(threadInfo(base).job_id).toBeNull();
  expect(threadInfo({ ...base, job: { ...job, phases: { wdpost: { Id: "3FgfEnvrub1", Input: {} } } } }).job_id).toBe(
    "3FgfEnvrub1",
  );
  expect(threadInfo({ ...base, job: { ...job, phases: { wdpost: { Id: 42 } } } }).job_id).toBeNull();
  expect(
    threadInfo({
      ...base,
      plan: "sealer",
      job: { ...job, plan: "sealer", sector: { miner: 1000, number: 7, proof_type: 5 } },
    }).job_id,
  ).toBe("s-t01000-7");
});
