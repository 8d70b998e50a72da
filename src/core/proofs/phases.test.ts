import { describe, expect, test } from "bun:test";
import type { ProofLogRecord } from "./native.ts";
import { parseRustDurationMs, proofPhases } from "./phases.ts";

/** Records as the addon buffers them: [ms, message], in the order the library logged them. */
function records(lines: [number, string][]): ProofLogRecord[] {
  return lines.map(([tMs, message]) => ({ tMs, level: "info", target: "t", message, thread: "t1" }));
}

// A first WinningPoSt of a process, as rust-fil-proofs 19.1 / bellperson 0.27 log it (times made round).
const WINNING_FIRST = records([
  [1000, "generate_winning_post:start"],
  [1000, "trying parameters memory cache for: WINNING_POST[2048]"],
  [1001, "no params in memory cache for WINNING_POST[2048]"],
  [1002, 'checking cache_path: "/p/v28-x.params" for parameters'],
  [1090, 'read parameters from cache "/p/v28-x.params" '],
  [1100, "vanilla_proofs:start"],
  [1130, "vanilla_proofs:finish"],
  [1135, "snark_proof:start"],
  [1135, "Bellperson 0.27.0 is being used!"],
  [1285, "synthesis time: 150.5ms"],
  [1285, "starting proof timer"],
  [7410, "prover time: 6.125s"],
  [7415, "snark_proof:finish"],
  [7420, "generate_winning_post:finish"],
]);

describe("proofPhases", () => {
  test("splits a WinningPoSt into parameter loading, vanilla, check and SNARK", () => {
    expect(proofPhases(WINNING_FIRST, "generate_winning_post")).toEqual({
      call_s: 6.42,
      params_s: 0.09,
      vk_s: 0,
      vanilla_s: 0.03,
      vanilla_check_s: 0.005,
      synthesis_s: 0.151,
      prover_s: 6.125,
      snark_s: 6.275,
      self_verify_s: 0,
      other_s: 0.02,
    });
  });

  test("a second call finds its parameters in the memory cache", () => {
    const p = proofPhases(
      records([
        [0, "generate_winning_post:start"],
        [0, "trying parameters memory cache for: WINNING_POST[2048]"],
        [1, "found params in memory cache for WINNING_POST[2048]"],
        [2, "vanilla_proofs:start"],
        [40, "vanilla_proofs:finish"],
        [48, "snark_proof:start"],
        [48, "Bellperson 0.27.0 is being used!"],
        [6000, "prover time: 5.7s"],
        [6001, "generate_winning_post:finish"],
      ]),
      "generate_winning_post",
    );
    expect(p?.params_s).toBe(0.001);
    expect(p?.snark_s).toBe(5.952);
  });

  test("C2: verifying key and the library's own verify_seal are their own phases; SectorId suffixes match", () => {
    const p = proofPhases(
      records([
        [0, "seal_commit_phase2:start: SectorId(1)"],
        [1, "seal_commit_phase2_circuit_proofs:start: SectorId(1)"],
        [1, "trying parameters memory cache for: STACKED[2048]"],
        [60, 'read parameters from cache "/p/a.params" '],
        [60, "Bellperson 0.27.0 is being used!"],
        [2200, "synthesis time: 2.14s"],
        [61000, "prover time: 58.8s"],
        [61000, "trying parameters memory cache for: STACKED[2048]-verifying-key"],
        [61004, 'read verifying key from cache "/p/a.vk" '],
        [61005, "seal_commit_phase2_circuit_proofs:finish: SectorId(1)"],
        [61005, "verify_seal:start: SectorId(1)"],
        [61006, "trying parameters memory cache for: STACKED[2048]-verifying-key"],
        [61006, "found params in memory cache for STACKED[2048]-verifying-key"],
        [61015, "verify_seal:finish: SectorId(1)"],
        [61016, "seal_commit_phase2:finish: SectorId(1)"],
      ]),
      "seal_commit_phase2",
    );
    expect(p).toMatchObject({
      call_s: 61.016,
      params_s: 0.059,
      vk_s: 0.004,
      vanilla_s: 0,
      snark_s: 60.94,
      synthesis_s: 2.14,
      prover_s: 58.8,
      self_verify_s: 0.01,
    });
  });

  test("undefined when the call's records are missing (logging off, or it failed)", () => {
    expect(proofPhases([], "generate_window_post")).toBeUndefined();
    expect(proofPhases(WINNING_FIRST.slice(0, -1), "generate_winning_post")).toBeUndefined();
    expect(proofPhases(WINNING_FIRST, "generate_window_post")).toBeUndefined();
  });
});

test("parseRustDurationMs reads Duration's Debug form", () => {
  expect(parseRustDurationMs("6.061873876s")).toBeCloseTo(6061.873876, 6);
  expect(parseRustDurationMs("151.613214ms")).toBeCloseTo(151.613214, 6);
  expect(parseRustDurationMs("12.5µs")).toBeCloseTo(0.0125, 9);
  expect(parseRustDurationMs("100ns")).toBeCloseTo(0.0001, 9);
  expect(parseRustDurationMs("soon")).toBeUndefined();
});
