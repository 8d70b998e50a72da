import { expect, test } from "bun:test";
import { WORKER_STATES } from "../../core/sector/states.ts";
import { nextState, PlanError } from "./plan.ts";
import { snapupPlan } from "./snapup.ts";

test("the happy path walks every snapup state from Empty to Finished", () => {
  const path = [
    "AllocatedSnapUpSector",
    "AddPiece",
    "BuildTreeD",
    "SnapEncode",
    "SnapProve",
    "Persist",
    "Finish",
  ] as const;
  let s: keyof typeof snapupPlan.states = snapupPlan.initial;
  const seen: string[] = [s];
  for (const e of path) {
    s = nextState(snapupPlan, s, e);
    seen.push(s);
  }
  expect(seen).toEqual([
    "Empty",
    "Allocated",
    "PieceAdded",
    "TreeDBuilt",
    "SnapEncoded",
    "SnapProved",
    "Persisted",
    "Finished",
  ]);
});

test("FilesMissed goes back to persisting, and nothing else leaves Persisted", () => {
  expect(nextState(snapupPlan, "Persisted", "RePersist")).toBe("SnapProved");
  expect(() => nextState(snapupPlan, "Persisted", "SnapProve")).toThrow("accepted: Finish, RePersist");
});

test("sealer events are refused: a snap sector never gets a ticket, a PreCommit or a seed", () => {
  expect(() => nextState(snapupPlan, "TreeDBuilt", "AssignTicket" as never)).toThrow(PlanError);
  expect(() => nextState(snapupPlan, "Empty", "Allocate" as never)).toThrow("accepted: AllocatedSnapUpSector");
});

test("every state is one the manager knows by name (ReportState carries them)", () => {
  for (const s of Object.keys(snapupPlan.states)) expect(WORKER_STATES).toContain(s as never);
});
