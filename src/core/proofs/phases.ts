import { native, type ProofLogRecord } from "./native.ts";

/**
 * Where a proof's time goes, read from the proofs library's own info logs (recorded with timestamps by the
 * addon, crates/proofs-ffi/src/proof_log.rs). rust-fil-proofs and bellperson mark every phase:
 *
 * - parameters: "trying parameters memory cache for: ID" … "read parameters from cache" (mmap + header, on
 *   the first call of a process) or "found params in memory cache" (later calls); the same for ID-verifying-key;
 * - vanilla proofs: "vanilla_proofs:start" … ":finish", then the library checks them ("sanity check") until
 *   "snark_proof:start" (C2 and snap-with-vanilla take vanilla proofs made by an earlier call: C1, partition proofs);
 * - SNARK: bellperson's "Bellperson … is being used!" … "prover time: D" (with "synthesis time: D" between);
 * - C2 verifies its own proof ("verify_seal:start" … ":finish" inside "seal_commit_phase2").
 */

export interface ProofPhases {
  /** The library call, from its "NAME:start" to "NAME:finish" log record. */
  call_s: number;
  /** Groth16 parameters: memory-cache lookup, on a miss mmap + header parse. */
  params_s: number;
  /** Verifying key lookup/load (PoSt/C2 load it to check their own proof). */
  vk_s: number;
  /** Vanilla proof generation inside this call (0 when they come from an earlier call). */
  vanilla_s: number;
  /** The library's verification of its vanilla proofs before the SNARK. */
  vanilla_check_s: number;
  /** bellperson circuit synthesis (its "synthesis time"). */
  synthesis_s: number;
  /** bellperson proving after synthesis: FFTs + multiexps (its "prover time"). */
  prover_s: number;
  /** The whole SNARK: from "Bellperson … is being used" to the end of "prover time". */
  snark_s: number;
  /** The library verifying the SNARK it just made (C2's verify_seal). */
  self_verify_s: number;
  /** call_s minus the phases above (tree loading, setup, serialisation). */
  other_s: number;
}

const MS: Record<string, number> = { ns: 1e-6, µs: 1e-3, us: 1e-3, ms: 1, s: 1000 };

/** Milliseconds of a Rust `Duration` Debug string ("6.06187s", "151.6ms", "12.3µs", "100ns"). */
export function parseRustDurationMs(text: string): number | undefined {
  const m = text.trim().match(/^(\d+(?:\.\d+)?)(ns|µs|us|ms|s)$/);
  if (!m) return undefined;
  return Number(m[1]) * MS[m[2]!]!;
}

const round = (ms: number) => Math.round(ms) / 1000;

function firstIndex(records: readonly ProofLogRecord[], from: number, test: (message: string) => boolean): number {
  for (let i = from; i < records.length; i++) if (test(records[i]!.message)) return i;
  return -1;
}

/** Summed spans from a record matching `start` to the next one matching `end` (each pair once). */
function spans(
  records: readonly ProofLogRecord[],
  start: (m: string) => boolean,
  end: (m: string) => boolean,
  within: [number, number],
): number {
  let total = 0;
  let i = within[0];
  while (i <= within[1]) {
    const s = firstIndex(records, i, start);
    if (s < 0 || s > within[1]) break;
    const e = firstIndex(records, s + 1, end);
    if (e < 0 || e > within[1]) break;
    total += records[e]!.tMs - records[s]!.tMs;
    i = e + 1;
  }
  return total;
}

/**
 * The phases of the library call `call` ("generate_winning_post", "seal_commit_phase2", …) found in
 * `records` (one call's drained records). Undefined when the call's start/finish records are missing
 * (logging off, or the call failed).
 */
export function proofPhases(records: readonly ProofLogRecord[], call: string): ProofPhases | undefined {
  const startAt = firstIndex(records, 0, (m) => m === `${call}:start` || m.startsWith(`${call}:start:`));
  if (startAt < 0) return undefined;
  let finishAt = -1;
  for (let i = records.length - 1; i > startAt; i--) {
    const m = records[i]!.message;
    if (m === `${call}:finish` || m.startsWith(`${call}:finish:`)) {
      finishAt = i;
      break;
    }
  }
  if (finishAt < 0) return undefined;
  const within: [number, number] = [startAt, finishAt];
  const trying = (vk: boolean) => (m: string) =>
    m.startsWith("trying parameters memory cache for: ") && m.endsWith("-verifying-key") === vk;
  const loaded = (vk: boolean) => (m: string) =>
    (vk ? m.startsWith("read verifying key from cache") : m.startsWith("read parameters from cache")) ||
    (m.startsWith("found params in memory cache for ") && m.endsWith("-verifying-key") === vk);
  const params = spans(records, trying(false), loaded(false), within);
  const vk = spans(records, trying(true), loaded(true), within);
  const vanilla = spans(
    records,
    (m) => m === "vanilla_proofs:start",
    (m) => m === "vanilla_proofs:finish",
    within,
  );
  const check = spans(
    records,
    (m) => m === "vanilla_proofs:finish",
    (m) => m === "snark_proof:start",
    within,
  );
  const snark = spans(
    records,
    (m) => /^Bellperson .* is being used!$/.test(m),
    (m) => m.startsWith("prover time: "),
    within,
  );
  const selfVerify =
    call === "seal_commit_phase2"
      ? spans(
          records,
          (m) => m.startsWith("verify_seal:start"),
          (m) => m.startsWith("verify_seal:finish"),
          within,
        )
      : 0;
  let synthesis = 0;
  let prover = 0;
  for (let i = startAt; i <= finishAt; i++) {
    const m = records[i]!.message;
    if (m.startsWith("synthesis time: ")) synthesis += parseRustDurationMs(m.slice(16)) ?? 0;
    else if (m.startsWith("prover time: ")) prover += parseRustDurationMs(m.slice(13)) ?? 0;
  }
  const callMs = records[finishAt]!.tMs - records[startAt]!.tMs;
  return {
    call_s: round(callMs),
    params_s: round(params),
    vk_s: round(vk),
    vanilla_s: round(vanilla),
    vanilla_check_s: round(check),
    synthesis_s: round(synthesis),
    prover_s: round(prover),
    snark_s: round(snark),
    self_verify_s: round(selfVerify),
    other_s: round(Math.max(0, callMs - params - vk - vanilla - check - snark - selfVerify)),
  };
}

/** Start recording the library's info-level logs (idempotent); pair with `takeProofLogs`. */
export function recordProofLogs(level: "info" | "debug" | "trace" = "info"): void {
  native().recordProofLogs(level);
}

/** Stop recording (records already taken stay with the caller). */
export function stopProofLogs(): void {
  native().recordProofLogs("off");
}

/** The records since the last take (oldest first); throws when the bounded buffer overflowed in between. */
export function takeProofLogs(): ProofLogRecord[] {
  const { records, dropped } = native().drainProofLogs();
  if (dropped > 0) throw new Error(`proof log buffer overflowed: ${dropped} records dropped; take them more often`);
  return records;
}
