import { expect, test } from "bun:test";
import { nextState, PlanError } from "./plan.ts";
import { sealerPlan } from "./sealer.ts";

test("the happy path walks every state from Empty to Finished", () => {
  const path = [
    "Allocate",
    "AcquireDeals",
    "AddPiece",
    "BuildTreeD",
    "AssignTicket",
    "PC1",
    "PC2",
    "SubmitPC",
    "CheckPC",
    "Persist",
    "SubmitPersistance",
    "AssignSeed",
    "C1",
    "C2",
    "SubmitProof",
    "Finish",
  ] as const;
  let s: keyof typeof sealerPlan.states = sealerPlan.initial;
  const seen = [s];
  for (const e of path) {
    s = nextState(sealerPlan, s, e);
    seen.push(s);
  }
  expect(s).toBe("Finished");
  expect(seen).toEqual([
    "Empty",
    "Allocated",
    "DealsAcquired",
    "PieceAdded",
    "TreeDBuilt",
    "TicketAssigned",
    "PC1Done",
    "PC2Done",
    "PCSubmitted",
    "PCLanded",
    "Persisted",
    "PersistanceSubmitted",
    "SeedAssigned",
    "C1Done",
    "C2Done",
    "ProofSubmitted",
    "Finished",
  ]);
});

test("resubmission loops go back exactly one step", () => {
  expect(nextState(sealerPlan, "PCSubmitted", "ReSubmitPC")).toBe("PC2Done");
  expect(nextState(sealerPlan, "ProofSubmitted", "ReSubmitProof")).toBe("C2Done");
  expect(nextState(sealerPlan, "PC1Done", "PC2NeedSyntheticProof")).toBe("SyntheticPoRepNeeded");
});

test("an event the state does not accept is an error naming what it accepts", () => {
  expect(() => nextState(sealerPlan, "PC1Done", "C2")).toThrow(PlanError);
  expect(() => nextState(sealerPlan, "PC1Done", "C2")).toThrow("accepted: PC2, PC2NeedSyntheticProof");
  expect(() => nextState(sealerPlan, "Finished", "Allocate")).toThrow("accepted: none");
});
