import { definePlan, type PlanEvent, type PlanState } from "./plan.ts";

/**
 * The rebuild plan (reference §4.5): seal a proven sector again from its recorded ticket and pieces, check
 * the new replica, persist it where the lost or corrupt one was, tell the manager. State and event names
 * are the Rust worker's (planner/rebuild.rs), so `worker resume --state PC1Done` means the same on both.
 * The snap states re-encode an upgraded sector's update over the rebuilt CC replica.
 */
export const rebuildPlan = definePlan({
  name: "rebuild",
  initial: "Empty",
  terminal: ["Finished", "Aborted"],
  states: {
    Empty: { stage: "AllocateRebuild", on: { AllocatedRebuildSector: "Allocated" } },
    Allocated: { stage: "AddPieces", on: { AddPiece: "PieceAdded" } },
    PieceAdded: { stage: "TreeD", on: { BuildTreeD: "TreeDBuilt" } },
    TreeDBuilt: { stage: "PC1", on: { PC1: "PC1Done" } },
    PC1Done: { stage: "PC2", on: { PC2: "PC2Done" } },
    PC2Done: { stage: "CheckSealed", on: { CheckSealed: "SealedChecked" } },
    SealedChecked: { stage: "PrepareSnap", on: { SkipSnap: "SnapDone", AddPiece: "SnapPieceAdded" } },
    SnapPieceAdded: { stage: "SnapTreeD", on: { BuildTreeD: "SnapTreeDBuilt" } },
    SnapTreeDBuilt: { stage: "SnapEncode", on: { SnapEncode: "SnapEncoded" } },
    SnapEncoded: { stage: "SnapProve", on: { SnapProve: "SnapDone" } },
    SnapDone: { stage: "PersistFiles", on: { Persist: "Persisted" } },
    Persisted: { stage: "SubmitPersisted", on: { SubmitPersistance: "Finished" } },
    Finished: { stage: "Finished", on: {} },
    Aborted: { stage: "Aborted", on: {} },
  },
});

export type RebuildState = PlanState<typeof rebuildPlan>;
export type RebuildEvent = PlanEvent<typeof rebuildPlan>;
