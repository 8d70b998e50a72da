import { definePlan, type PlanEvent, type PlanState } from "./plan.ts";

/**
 * The wdpost plan (reference §4.7, seed 002's worker-prover mode): take one WindowPoSt job from the
 * manager, compute it through the window_post stage, hand the result back. State and event names are the
 * Rust worker's, so `worker resume --state Aborted` means the same thing on both.
 */
export const wdpostPlan = definePlan({
  name: "wdpost",
  initial: "Empty",
  terminal: ["Finished", "Aborted"],
  states: {
    Empty: { stage: "-", on: { Allocated: "Allocated" } },
    Allocated: { stage: "Generate", on: { Generate: "Generated" } },
    Generated: { stage: "SubmitProof", on: { Finish: "Finished" } },
    Finished: { stage: "-", on: {} },
    Aborted: { stage: "-", on: {} },
  },
});

export type WdPoStState = PlanState<typeof wdpostPlan>;
export type WdPoStEvent = PlanEvent<typeof wdpostPlan>;
