import * as v from "valibot";
import { defineMethod } from "../rpc/method.ts";
import { EpochSchema, SectorIDSchema } from "./id.ts";
import {
  AllocatedSectorSchema,
  AllocateSectorSpecSchema,
  Base64Schema,
  CidJsonSchema,
  Commitment32Schema,
  SectorStateSchema,
  SectorWorkerStateSchema,
} from "./wire.ts";

/**
 * Unsealing a piece back out of a sealed sector (reference §3.2, §3.4, §4.6). Shapes are the original's:
 * core.SectorUnsealInfo (damocles-manager/core/types.go) and venus-shared's gateway.UnsealState, the
 * worker-facing methods of core.SealerAPI and UnsealPiece / FindSectorWithPiece of core.SealerCliAPI
 * (damocles-manager/core/api.go).
 */

/** gateway.UnsealState: a task is queued (set_up), unsealed by a worker, delivered, then finished or failed. */
export const UNSEAL_STATES = ["set_up", "unsealing", "uploading", "finished", "failed"] as const;
export const UnsealStateSchema = v.picklist(UNSEAL_STATES, `unseal state must be one of ${UNSEAL_STATES.join(", ")}`);
export type UnsealState = v.InferOutput<typeof UnsealStateSchema>;

const u64 = v.pipe(v.number(), v.safeInteger(), v.minValue(0));

/**
 * core.SectorUnsealInfo. Offset and Size are UNPADDED bytes (vtypes.UnpaddedByteIndex, abi.UnpaddedPieceSize).
 * A queued task has Go's zero values where the manager fills in the sector's data at allocation: Ticket
 * {"Ticket": null, "Epoch": 0}, CommD all zeros, AccessInstance "".
 */
export const SectorUnsealInfoSchema = v.object({
  Sector: AllocatedSectorSchema,
  PieceCid: CidJsonSchema,
  Offset: u64,
  Size: u64,
  PrivateInfo: v.object({ AccessInstance: v.string() }),
  Ticket: v.object({ Ticket: v.nullable(Base64Schema), Epoch: EpochSchema }),
  CommD: Commitment32Schema,
  /** Where the piece goes; more than one request may add destinations to one task. */
  Dest: v.nullable(v.array(v.string())),
  State: UnsealStateSchema,
  ErrorInfo: v.string(),
});
export type SectorUnsealInfo = v.InferOutput<typeof SectorUnsealInfoSchema>;

/** The KV key and display name of a task, as core.UnsealInfoKey: "<actor>-<number>-<pieceCid>". */
export function unsealTaskKey(sid: { Miner: number; Number: number }, pieceCid: string): string {
  return `${sid.Miner}-${sid.Number}-${pieceCid}`;
}

const sid = ["sid", SectorIDSchema] as const;
const pieceCid = ["pieceCid", CidJsonSchema] as const;

/** Worker-facing methods (core.SealerAPI), in the `Venus` namespace. */
export const VenusUnseal = {
  AllocateUnsealSector: defineMethod(
    "Venus.AllocateUnsealSector",
    [["spec", AllocateSectorSpecSchema]] as const,
    v.nullable(SectorUnsealInfoSchema),
    "write",
  ),
  /** Marks the task uploading: no destination may be added from now on. Go's nil slice is null. */
  AcquireUnsealDest: defineMethod(
    "Venus.AcquireUnsealDest",
    [sid, pieceCid] as const,
    v.nullable(v.array(v.string())),
    "write",
  ),
  /** errInfo "" = delivered to every destination (finished); anything else = failed with that reason. */
  AchieveUnsealSector: defineMethod(
    "Venus.AchieveUnsealSector",
    [sid, pieceCid, ["errInfo", v.string()]] as const,
    v.null(),
    "write",
  ),

  // admin (core.SealerCliAPI)
  /**
   * Queues an unseal task, or adds `dest` to the task already queued for this sector and piece. Offset
   * (unpadded) and size (unpadded) place the piece in the sector; size 0 asks the manager to find them
   * in the sector's state. The original answers a websocket channel that streams the piece; ours answers
   * the task's state, and `Damocles.UnsealTask` tells how it goes on.
   */
  UnsealPiece: defineMethod(
    "Venus.UnsealPiece",
    [sid, pieceCid, ["offset", u64], ["size", u64], ["dest", v.string()]] as const,
    UnsealStateSchema,
    "admin",
  ),
  /** The sector holding a piece: one of its deal pieces, or its whole data (CommD) for a sector without deals. */
  FindSectorWithPiece: defineMethod(
    "Venus.FindSectorWithPiece",
    [["state", SectorWorkerStateSchema], pieceCid] as const,
    v.nullable(SectorStateSchema),
    "read",
  ),
} as const;

/** Ours, not the original's: how a queued task is doing, for CLIs that wait on it. */
export const DamoclesUnseal = {
  UnsealTask: defineMethod("Damocles.UnsealTask", [sid, pieceCid] as const, v.nullable(SectorUnsealInfoSchema), "read"),
  UnsealTasks: defineMethod("Damocles.UnsealTasks", [] as const, v.array(SectorUnsealInfoSchema), "read"),
} as const;
