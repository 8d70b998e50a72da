import { definePlan, type PlanEvent, type PlanState } from "./plan.ts";

/**
 * The sealer plan (reference §4.3): a CC or deal sector from allocation to a landed ProveCommit.
 * State and event names are the wire names of ReportState and `worker resume --state`.
 */
export const sealerPlan = definePlan({
  name: "sealer",
  initial: "Empty",
  terminal: ["Finished", "Aborted"],
  states: {
    Empty: { stage: "Allocate", on: { Allocate: "Allocated" } },
    Allocated: { stage: "AcquireDeals", on: { AcquireDeals: "DealsAcquired" } },
    DealsAcquired: { stage: "AddPieces", on: { AddPiece: "PieceAdded" } },
    PieceAdded: { stage: "TreeD", on: { BuildTreeD: "TreeDBuilt" } },
    TreeDBuilt: { stage: "AssignTicket", on: { AssignTicket: "TicketAssigned" } },
    TicketAssigned: { stage: "PC1", on: { PC1: "PC1Done" } },
    PC1Done: { stage: "PC2", on: { PC2: "PC2Done", PC2NeedSyntheticProof: "SyntheticPoRepNeeded" } },
    SyntheticPoRepNeeded: { stage: "SyntheticPoRep", on: { SyntheticPoRep: "PC2Done" } },
    PC2Done: { stage: "SubmitPreCommit", on: { SubmitPC: "PCSubmitted" } },
    PCSubmitted: { stage: "WaitPCLanded", on: { CheckPC: "PCLanded", ReSubmitPC: "PC2Done" } },
    PCLanded: { stage: "PersistFiles", on: { Persist: "Persisted" } },
    Persisted: { stage: "SubmitPersisted", on: { SubmitPersistance: "PersistanceSubmitted" } },
    PersistanceSubmitted: { stage: "WaitSeed", on: { AssignSeed: "SeedAssigned" } },
    SeedAssigned: { stage: "C1", on: { C1: "C1Done" } },
    C1Done: { stage: "C2", on: { C2: "C2Done" } },
    C2Done: { stage: "SubmitProof", on: { SubmitProof: "ProofSubmitted" } },
    ProofSubmitted: { stage: "WaitProofLanded", on: { Finish: "Finished", ReSubmitProof: "C2Done" } },
    Finished: { stage: "Finished", on: {} },
    Aborted: { stage: "Aborted", on: {} },
  },
});

export type SealerState = PlanState<typeof sealerPlan>;
export type SealerEvent = PlanEvent<typeof sealerPlan>;
