import { definePlan, type PlanEvent, type PlanState } from "./plan.ts";

/**
 * The snapup plan (reference §4.4): fill an active CC sector with deals (SnapDeals). The manager hands out a
 * candidate with its deals and the persist store holding its replica; the worker writes the deal data,
 * encodes it into a new replica keyed by the old one, proves the update, persists update/ + update-cache/
 * and submits the proof. State and event names are the Rust worker's (planner/snapup.rs), so ReportState
 * and `worker resume --state TreeDBuilt` mean the same on both.
 */
export const snapupPlan = definePlan({
  name: "snapup",
  initial: "Empty",
  terminal: ["Finished", "Aborted"],
  states: {
    Empty: { stage: "AllocateSnapUp", on: { AllocatedSnapUpSector: "Allocated" } },
    Allocated: { stage: "AddPieces", on: { AddPiece: "PieceAdded" } },
    PieceAdded: { stage: "TreeD", on: { BuildTreeD: "TreeDBuilt" } },
    TreeDBuilt: { stage: "SnapEncode", on: { SnapEncode: "SnapEncoded" } },
    SnapEncoded: { stage: "SnapProve", on: { SnapProve: "SnapProved" } },
    SnapProved: { stage: "PersistFiles", on: { Persist: "Persisted" } },
    // FilesMissed: the manager cannot find the persisted files, so they are persisted again.
    Persisted: { stage: "SubmitSnapUpProof", on: { Finish: "Finished", RePersist: "SnapProved" } },
    Finished: { stage: "Finished", on: {} },
    Aborted: { stage: "Aborted", on: {} },
  },
});

export type SnapupState = PlanState<typeof snapupPlan>;
export type SnapupEvent = PlanEvent<typeof snapupPlan>;
