import { expect, test } from "bun:test";
import { WORKER_STATES } from "../../core/sector/states.ts";
import { nextState, PlanError } from "./plan.ts";
import { rebuildPlan } from "./rebuild.ts";

function walk(events: readonly string[]): string[] {
  let s: string = rebuildPlan.initial;
  const seen = [s];
  for (const e of events) {
    s = nextState(rebuildPlan, s as never, e as never);
    seen.push(s);
  }
  return seen;
}

test("a CC or deal sector: allocate, seal again with the recorded ticket, check, skip snap, persist, submit", () => {
  expect(
    walk([
      "AllocatedRebuildSector",
      "AddPiece",
      "BuildTreeD",
      "PC1",
      "PC2",
      "CheckSealed",
      "SkipSnap",
      "Persist",
      "SubmitPersistance",
    ]),
  ).toEqual([
    "Empty",
    "Allocated",
    "PieceAdded",
    "TreeDBuilt",
    "PC1Done",
    "PC2Done",
    "SealedChecked",
    "SnapDone",
    "Persisted",
    "Finished",
  ]);
});

test("an upgraded sector: the CC replica sealed and checked, then the update encoded and proven again, persisted, submitted", () => {
  expect(
    walk([
      "AllocatedRebuildSector",
      "AddPiece",
      "BuildTreeD",
      "PC1",
      "PC2",
      "CheckSealed",
      "AddPiece",
      "BuildTreeD",
      "SnapEncode",
      "SnapProve",
      "Persist",
      "SubmitPersistance",
    ]),
  ).toEqual([
    "Empty",
    "Allocated",
    "PieceAdded",
    "TreeDBuilt",
    "PC1Done",
    "PC2Done",
    "SealedChecked",
    "SnapPieceAdded",
    "SnapTreeDBuilt",
    "SnapEncoded",
    "SnapDone",
    "Persisted",
    "Finished",
  ]);
  // The snap states take only their own event: no skipping the proof, no persisting before it.
  expect(() => nextState(rebuildPlan, "SnapTreeDBuilt", "Persist")).toThrow("accepted: SnapEncode");
  expect(() => nextState(rebuildPlan, "SnapEncoded", "Persist")).toThrow("accepted: SnapProve");
  expect(() => nextState(rebuildPlan, "SnapPieceAdded", "SnapEncode")).toThrow("accepted: BuildTreeD");
});

test("no ticket is assigned and nothing is submitted on chain: the sealer's events are refused", () => {
  expect(() => nextState(rebuildPlan, "TreeDBuilt", "AssignTicket" as never)).toThrow(PlanError);
  expect(() => nextState(rebuildPlan, "TreeDBuilt", "AssignTicket" as never)).toThrow("accepted: PC1");
  expect(() => nextState(rebuildPlan, "PC2Done", "SubmitPC" as never)).toThrow("accepted: CheckSealed");
  expect(() => nextState(rebuildPlan, "PC2Done", "Persist")).toThrow("accepted: CheckSealed");
  expect(() => nextState(rebuildPlan, "Persisted", "AssignSeed" as never)).toThrow("accepted: SubmitPersistance");
});

test("every state is a worker state the manager knows by name", () => {
  for (const s of Object.keys(rebuildPlan.states)) expect(WORKER_STATES).toContain(s as never);
});
