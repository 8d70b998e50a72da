import * as v from "valibot";
import type { MsgLookup } from "../../../core/chain/lotus-api.ts";
import {
  type MessageLookup,
  type RejectionCode,
  RejectionCodeSchema,
  type SectorResult,
} from "../../../core/sector/api-chain.ts";
import type { OutboxEntry } from "./outbox.ts";

/**
 * A recorded message's MessageLookup from what StateSearchMsg answered:
 * - not found: pending (in the pool, or about to be re-pushed);
 * - found at height H with head − H < confidence: packed, whatever its exit code (a reorg can still undo
 *   it, so neither success nor failure is final yet);
 * - found with head − H ≥ confidence: landed (exit code 0) or failed, landedEpoch = H + confidence.
 * The code and per-sector results of a failure come from the receipt's DevnetOutcome when the node is the
 * devnet; from a real node only the exit code is known, mapped by EXIT_CODE_REJECTION.
 */

/**
 * builtin-actors exit codes → RejectionCode, for receipts without a DevnetOutcome. Only codes whose
 * meaning does not depend on the method are mapped to a specific reason; the rest — IllegalArgument (16)
 * is also what an invalid proof fails with, Forbidden (18) a sender that is not the worker or a control
 * address, IllegalState (20) a sector in the wrong state — are "internal": the manager learns the message
 * failed, and the exit code and its name travel in `error` for people. System exit codes below 16 (out of
 * gas 7, insufficient funds 6 …) carry no code: the manager decides on them by exitCode.
 */
export const EXIT_CODE_REJECTION: Readonly<Record<number, RejectionCode>> = {
  /** ErrSerialization: the params did not decode. */
  21: "malformed",
};

const EXIT_CODE_NAMES: Readonly<Record<number, string>> = {
  1: "SysErrSenderInvalid",
  2: "SysErrSenderStateInvalid",
  5: "SysErrIllegalInstruction",
  6: "SysErrInsufficientFunds",
  7: "SysErrOutOfGas",
  16: "ErrIllegalArgument",
  17: "ErrNotFound",
  18: "ErrForbidden",
  19: "ErrInsufficientFunds",
  20: "ErrIllegalState",
  21: "ErrSerialization",
  22: "ErrUnhandledMessage",
  23: "ErrUnspecified",
  24: "ErrAssertionFailed",
};

const FIRST_ACTOR_EXIT_CODE = 16;

export function exitCodeName(code: number): string {
  return EXIT_CODE_NAMES[code] ?? `exit code ${code}`;
}

function rejectionOf(code: string | undefined): RejectionCode | undefined {
  const parsed = v.safeParse(RejectionCodeSchema, code);
  return parsed.success ? parsed.output : undefined;
}

function resultsOf(found: MsgLookup): SectorResult[] | undefined {
  return found.DevnetOutcome?.Results?.map((r) => {
    const code = rejectionOf(r.Code) ?? (r.Ok || r.Code === undefined ? undefined : "internal");
    return {
      number: r.Number,
      ok: r.Ok,
      ...(r.Error !== undefined ? { error: r.Error } : {}),
      ...(code !== undefined ? { code } : {}),
    };
  });
}

function failureCode(found: MsgLookup): RejectionCode | undefined {
  const outcome = found.DevnetOutcome;
  if (outcome?.Code !== undefined) return rejectionOf(outcome.Code) ?? "internal";
  const firstRejected = outcome?.Results?.find((r) => !r.Ok);
  if (firstRejected) return rejectionOf(firstRejected.Code) ?? "internal";
  const exit = found.Receipt.ExitCode;
  if (exit < FIRST_ACTOR_EXIT_CODE) return undefined;
  return EXIT_CODE_REJECTION[exit] ?? "internal";
}

export function pendingLookup(entry: OutboxEntry): MessageLookup {
  return { cid: entry.id, message: entry.message, status: "pending", pushedEpoch: entry.pushedEpoch };
}

export function foundLookup(entry: OutboxEntry, found: MsgLookup, head: number, confidence: number): MessageLookup {
  const base = { ...pendingLookup(entry), packedEpoch: found.Height };
  const exitCode = found.Receipt.ExitCode;
  const results = resultsOf(found);
  const withResults = results ? { results } : {};
  if (head - found.Height < confidence) return { ...base, status: "packed", exitCode, ...withResults };
  const landedEpoch = found.Height + confidence;
  if (exitCode === 0) return { ...base, status: "landed", landedEpoch, exitCode, ...withResults };
  const code = failureCode(found);
  return {
    ...base,
    status: "failed",
    landedEpoch,
    exitCode,
    error: found.DevnetOutcome?.Error ?? `exit code ${exitCode} (${exitCodeName(exitCode)})`,
    ...(code ? { code } : {}),
    ...withResults,
  };
}
