import { expect, test } from "bun:test";
import { generateWinningPostSectorChallenge } from "../../src/core/proofs/index.ts";
import { native } from "../../src/core/proofs/native.ts";
import { proofPhases, recordProofLogs, stopProofLogs, takeProofLogs } from "../../src/core/proofs/phases.ts";
import { winningPoStProofFor } from "../../src/core/sector/proof.ts";

// The addon's log buffer with a real library call: no parameters needed, milliseconds.
const challenge = () =>
  generateWinningPostSectorChallenge({
    postProof: winningPoStProofFor(5),
    randomness: new Uint8Array(32).fill(3),
    proverId: 1000,
    sectorSetLen: 10,
  });

test("the library's records are buffered with timestamps on the addon's clock, and only while recording", async () => {
  recordProofLogs("info");
  takeProofLogs();
  const before = native().proofLogClockMs();
  await challenge();
  const after = native().proofLogClockMs();
  const records = takeProofLogs();
  const marks = records.filter((r) => r.target === "filecoin_proofs::api::winning_post");
  expect(marks.map((r) => r.message)).toEqual([
    "generate_winning_post_sector_challenge:start",
    "generate_winning_post_sector_challenge:finish",
  ]);
  for (const r of marks) {
    expect(r.level).toBe("info");
    expect(r.tMs).toBeGreaterThanOrEqual(before);
    expect(r.tMs).toBeLessThanOrEqual(after);
    expect(r.thread).not.toBe("");
  }
  expect(proofPhases(records, "generate_winning_post_sector_challenge")?.call_s).toBeGreaterThanOrEqual(0);
  expect(takeProofLogs()).toEqual([]);

  stopProofLogs();
  await challenge();
  expect(takeProofLogs()).toEqual([]);
});

test("a bad level is refused with the levels there are", () => {
  expect(() => native().recordProofLogs("loud")).toThrow(
    'invalid log level "loud": use off|error|warn|info|debug|trace',
  );
});
