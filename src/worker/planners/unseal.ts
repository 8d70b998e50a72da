import { definePlan, type PlanEvent, type PlanState } from "./plan.ts";

/**
 * The unseal plan (reference §4.6): take an unseal task from the manager, unseal the piece from the
 * sector's sealed replica in a persist store, deliver it to every destination, report. State and event
 * names are the Rust worker's (planner/unseal.rs), so `worker resume --state Allocated` means the same on
 * both.
 */
export const unsealPlan = definePlan({
  name: "unseal",
  initial: "Empty",
  terminal: ["Finished", "Aborted"],
  states: {
    Empty: { stage: "AllocateUnseal", on: { AllocatedUnsealSector: "Allocated" } },
    Allocated: { stage: "Unseal", on: { UnsealDone: "Unsealed" } },
    Unsealed: { stage: "UploadPiece", on: { UploadPieceDone: "Finished" } },
    Finished: { stage: "Finished", on: {} },
    Aborted: { stage: "Aborted", on: {} },
  },
});

export type UnsealPlanState = PlanState<typeof unsealPlan>;
export type UnsealPlanEvent = PlanEvent<typeof unsealPlan>;
