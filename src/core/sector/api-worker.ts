import * as v from "valibot";
import { defineMethod } from "../rpc/method.ts";

/**
 * The worker's management API, namespace `VenusWorker` (reference §3.5): snake_case fields, as the Rust
 * worker serialises them, so the original's `damocles-manager util worker info` can read ours.
 */
export const ThreadStateSchema = v.variant("state", [
  v.object({ state: v.literal("Idle") }),
  v.object({ state: v.literal("Paused"), elapsed: v.number() }),
  v.object({ state: v.literal("Running"), elapsed: v.number(), proc: v.optional(v.nullable(v.string())) }),
  v.object({ state: v.literal("Waiting"), elapsed: v.number(), on: v.optional(v.nullable(v.string())) }),
]);

export const WorkerThreadInfoSchema = v.object({
  location: v.string(),
  plan: v.string(),
  job_id: v.nullable(v.string()),
  index: v.number(),
  thread_state: ThreadStateSchema,
  job_state: v.string(),
  job_stage: v.nullable(v.string()),
  last_error: v.nullable(v.string()),
});
export type WorkerThreadInfo = v.InferOutput<typeof WorkerThreadInfoSchema>;

/**
 * One external processor child, for `worker list` (a damocles extension: the original worker has no such
 * call). `memory_policy` is what the child's launcher read back with get_mempolicy before exec; null when
 * the processor has no numa_preferred.
 */
export const WorkerProcessorInfoSchema = v.object({
  stage: v.string(),
  index: v.number(),
  pid: v.nullable(v.number()),
  state: v.picklist(["starting", "ready", "restarting", "stopped"]),
  restarts: v.number(),
  placement: v.string(),
  memory_policy: v.nullable(v.object({ mode: v.string(), nodes: v.array(v.number()) })),
});
export type WorkerProcessorInfo = v.InferOutput<typeof WorkerProcessorInfoSchema>;

const index = v.pipe(
  v.number("index must be a number"),
  v.integer("index must be an integer"),
  v.minValue(0, "index must not be negative"),
);
const envName = v.pipe(v.string(), v.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "expected an environment variable name"));

export const VenusWorker = {
  WorkerList: defineMethod("VenusWorker.WorkerList", [] as const, v.array(WorkerThreadInfoSchema), "read"),
  WorkerPause: defineMethod("VenusWorker.WorkerPause", [["index", index]] as const, v.boolean(), "admin"),
  WorkerResume: defineMethod(
    "VenusWorker.WorkerResume",
    [
      ["index", index],
      ["set_to", v.nullish(v.string())],
    ] as const,
    v.boolean(),
    "admin",
  ),
  WorkerSetEnv: defineMethod(
    "VenusWorker.WorkerSetEnv",
    [
      ["name", envName],
      ["value", v.string()],
    ] as const,
    v.null(),
    "admin",
  ),
  WorkerRemoveEnv: defineMethod("VenusWorker.WorkerRemoveEnv", [["name", envName]] as const, v.null(), "admin"),
  WorkerVersion: defineMethod("VenusWorker.WorkerVersion", [] as const, v.string(), "read"),
  ProcessorList: defineMethod("VenusWorker.ProcessorList", [] as const, v.array(WorkerProcessorInfoSchema), "read"),
} as const;
