import type { ChainMessage } from "../sector/api-chain.ts";
import { cidToCommitment, commDToCid, commRToCid } from "../sector/cid.ts";
import { zeroCommD } from "../sector/commd.ts";
import { sealProofInfo } from "../sector/proof.ts";
import type { Network } from "./address.ts";
import { ChainCodecError } from "./errors.ts";
import type { UnsignedMessage } from "./message.ts";
import { dealIdsOf, pieceFromManifest, pieceManifest, type SectorPiece } from "./miner-call-pieces.ts";
import { decodeMinerParams, encodeMinerParams, MINER_METHODS, type MinerParams } from "./miner-params.ts";

/**
 * The one translation between the ChainMessage the manager and the devnet speak internally
 * (core/sector/api-chain.ts) and the miner-actor call a Filecoin node executes: method number and
 * builtin-actors CBOR params. The manager encodes with toMinerCall before signing; the devnet decodes a
 * signed message's params with fromMinerCall. What the builtin params need and ChainMessage lacks comes
 * from a context; what the builtin params carry and ChainMessage lacks comes back beside the body.
 *
 * Choices the builtin actors force, each on purpose:
 * - Deals travel the DDO way (FIP-0076): ProveCommitSectors3 refuses a pre-commit that names deal ids
 *   ("precommit has deal ids which are disallowed"), so PreCommitSectorBatch2 always writes DealIDs = []
 *   and the deals arrive at ProveCommitSectors3 / ProveReplicaUpdates3 as pieces that notify the market
 *   actor (miner-call-pieces.ts). A deal sector's PreCommit therefore decodes with dealIds [] and its
 *   deals appear in the ProveCommit's pieces; the actor checks the declared CommD against them there.
 * - UnsealedCid is null exactly when CommD is the zero CommD of the sector size: builtin's CompactCommD
 *   reads null as "no data" and compares a declared zero CommD in either form, so this is lossless both
 *   ways (a CC sector always has the zero CommD; a sector with deals never does).
 * - SubmitWindowedPoSt commits to the chain at the deadline's challenge epoch (open − lookback): the actor
 *   takes any commit epoch from the challenge epoch up to the current one, and the challenge epoch is in
 *   the past whenever a proof can be submitted (Lotus's di.Open is not, in the deadline's first epoch). The
 *   devnet derives the deadline's `open` back as chainCommitEpoch + lookback. `recovered` does not travel:
 *   builtin declares recoveries with DeclareFaultsRecovered; the devnet treats faulty sectors proven in
 *   a partition (not skipped) as recovered, so the body decodes with recovered = [].
 * - Proofs are one per sector (no aggregate): AggregateProof empty, AggregateProofType null, and both
 *   RequireActivationSuccess and RequireNotificationSuccess true (Lotus's defaults), so a sector whose
 *   data or deals cannot be activated fails the whole message instead of landing without them.
 */

/** A ChainMessage without its sender and nonce, which travel in the Filecoin message around the params. */
export type ChainMessageBody = ChainMessage extends infer M
  ? M extends ChainMessage
    ? Omit<M, "from" | "nonce">
    : never
  : never;
type BodyOf<K extends ChainMessage["method"]> = Extract<ChainMessageBody, { method: K }>;

/** What the builtin params need besides a ChainMessage; each method reads only its own fields. */
export interface MinerCallContext {
  /** PreCommitSectorBatch2: the epoch each sector expires at, one for all or per sector number. */
  expiration?: number | ((sector: number) => number);
  /**
   * ProveCommitSectors3 and ProveReplicaUpdates: the pieces of each sector in sector order ([] for a CC
   * sector). For ProveReplicaUpdates their deal ids must be the update's dealIds, in order.
   */
  pieces?: (sector: number) => readonly SectorPiece[];
  /** SubmitWindowedPoSt: the policy's WPoStChallengeLookback (the commit epoch is open − lookback). */
  wpostChallengeLookback?: number;
  /** SubmitWindowedPoSt: the 32 bytes of PoStChainCommit randomness at that commit epoch. */
  chainCommitRand?: Uint8Array;
}

export interface MinerCall {
  /** The miner-actor method number (MINER_METHODS). */
  method: number;
  params: Uint8Array;
}

/** The deadline's challenge epoch, the chain commit epoch a SubmitWindowedPoSt for `open` carries. */
export const chainCommitEpochOf = (open: number, wpostChallengeLookback: number): number =>
  open - wpostChallengeLookback;

const RANDOMNESS_BYTES = 32;

function need<T>(value: T | undefined, method: string, field: string): T {
  if (value === undefined) throw new ChainCodecError("context", `${method} needs ctx.${field}`);
  return value;
}

function proofBytes(base64: string, path: string): Uint8Array {
  const bytes = new Uint8Array(Buffer.from(base64, "base64"));
  // Buffer skips what is not base64; re-encoding catches it, so a garbled proof never travels as another.
  if (Buffer.from(bytes).toString("base64") !== base64) {
    throw new ChainCodecError("params", `${path}: not canonical base64 (${base64.slice(0, 16)}…)`);
  }
  return bytes;
}

const toBase64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64");

function sectorSizeOf(sealProof: number, path: string): number {
  try {
    return sealProofInfo(sealProof).sectorSize;
  } catch (err) {
    throw new ChainCodecError("params", `${path}: ${(err as Error).message}`);
  }
}

const sameBytes = (a: ArrayLike<number>, b: ArrayLike<number>): boolean =>
  a.length === b.length && Array.from(a).every((x, i) => x === b[i]);

function piecesFor(ctx: MinerCallContext, method: string, sector: number): readonly SectorPiece[] {
  return need(ctx.pieces, method, "pieces")(sector);
}

/** The method number and builtin params of `msg`. Throws ChainCodecError naming the field it cannot write. */
export function toMinerCall(msg: ChainMessageBody, ctx: MinerCallContext = {}): MinerCall {
  switch (msg.method) {
    case "PreCommitSectorBatch2":
      return call("PreCommitSectorBatch2", preCommitParams(msg, ctx));
    case "ProveCommitSectors3":
      return call("ProveCommitSectors3", proveCommitParams(msg, ctx));
    case "ProveReplicaUpdates":
      return call("ProveReplicaUpdates3", replicaUpdateParams(msg, ctx));
    case "SubmitWindowedPoSt":
      return call("SubmitWindowedPoSt", windowPoStParams(msg, ctx));
  }
}

function call<M extends keyof MinerParams>(method: M, params: MinerParams[M]): MinerCall {
  return { method: MINER_METHODS[method], params: encodeMinerParams(method, params) };
}

function preCommitParams(msg: BodyOf<"PreCommitSectorBatch2">, ctx: MinerCallContext) {
  const expiration = need(ctx.expiration, msg.method, "expiration");
  return {
    sectors: msg.sectors.map((s, i) => {
      const zero = zeroCommD(sectorSizeOf(s.sealProof, `sectors[${i}].sealProof`));
      return {
        sealProof: s.sealProof,
        sectorNumber: s.number,
        sealedCid: commRToCid(s.commR),
        sealRandEpoch: s.sealRandEpoch,
        dealIds: [], // deals travel as pieces at ProveCommitSectors3 (see the module comment)
        expiration: typeof expiration === "number" ? expiration : expiration(s.number),
        unsealedCid: sameBytes(s.commD, zero) ? null : commDToCid(s.commD),
      };
    }),
  };
}

function proveCommitParams(msg: BodyOf<"ProveCommitSectors3">, ctx: MinerCallContext) {
  return {
    sectorActivations: msg.sectors.map((s) => ({
      sectorNumber: s.number,
      pieces: piecesFor(ctx, msg.method, s.number).map(pieceManifest),
    })),
    sectorProofs: msg.sectors.map((s, i) => proofBytes(s.proof, `sectors[${i}].proof`)),
    aggregateProof: new Uint8Array(0),
    aggregateProofType: null,
    requireActivationSuccess: true,
    requireNotificationSuccess: true,
  };
}

function replicaUpdateParams(msg: BodyOf<"ProveReplicaUpdates">, ctx: MinerCallContext) {
  const first = msg.updates[0];
  if (!first) throw new ChainCodecError("params", "ProveReplicaUpdates: updates is empty; it has no update proof type");
  return {
    sectorUpdates: msg.updates.map((u, i) => {
      if (u.updateProof !== first.updateProof) {
        throw new ChainCodecError(
          "params",
          `ProveReplicaUpdates: updates[${i}].updateProof is ${u.updateProof}, updates[0]'s is ${first.updateProof}; one message proves one update proof type`,
        );
      }
      const pieces = piecesFor(ctx, msg.method, u.number);
      const carried = dealIdsOf(pieces);
      if (carried.join(",") !== u.dealIds.join(",")) {
        throw new ChainCodecError(
          "context",
          `ProveReplicaUpdates: updates[${i}].dealIds are [${u.dealIds.join(", ")}] but ctx.pieces(${u.number}) carries deals [${carried.join(", ")}]`,
        );
      }
      return {
        sector: u.number,
        deadline: u.deadline,
        partition: u.partition,
        newSealedCid: commRToCid(u.newCommR),
        pieces: pieces.map(pieceManifest),
      };
    }),
    sectorProofs: msg.updates.map((u, i) => proofBytes(u.proof, `updates[${i}].proof`)),
    aggregateProof: new Uint8Array(0),
    updateProofsType: first.updateProof,
    aggregateProofType: null,
    requireActivationSuccess: true,
    requireNotificationSuccess: true,
  };
}

function windowPoStParams(msg: BodyOf<"SubmitWindowedPoSt">, ctx: MinerCallContext) {
  const lookback = need(ctx.wpostChallengeLookback, msg.method, "wpostChallengeLookback");
  const rand = need(ctx.chainCommitRand, msg.method, "chainCommitRand");
  if (rand.length !== RANDOMNESS_BYTES) {
    throw new ChainCodecError("context", `SubmitWindowedPoSt: ctx.chainCommitRand is ${rand.length} bytes, not 32`);
  }
  const { post } = msg;
  return {
    deadline: post.deadline,
    partitions: post.partitions.map((p) => ({ index: p.index, skipped: [...p.skipped] })),
    proofs: post.proofs.map((p, i) => ({
      postProof: p.postProof,
      proofBytes: proofBytes(p.proof, `proofs[${i}].proof`),
    })),
    chainCommitEpoch: chainCommitEpochOf(post.open, lookback),
    chainCommitRand: rand,
  };
}

/** What fromMinerCall needs besides the params. */
export interface FromMinerCallContext {
  /** SubmitWindowedPoSt: the policy's WPoStChallengeLookback, to derive `open` from the commit epoch. */
  wpostChallengeLookback?: number;
  /** Network addresses inside the params are rendered for (default mainnet). */
  network?: Network;
}

/** The activation options ProveCommitSectors3 and ProveReplicaUpdates3 carry beside the body. */
export interface Activation {
  /** Each sector's pieces, in the order of the body's sectors (or updates). */
  pieces: SectorPiece[][];
  /** true: a sector whose data cannot be activated fails the whole message. */
  requireActivationSuccess: boolean;
  /** true: a market notification that fails fails the whole message. */
  requireNotificationSuccess: boolean;
}

/** A decoded call: the ChainMessage body, and what the params carry that the body has no place for. */
export type DecodedMinerCall =
  | { method: "PreCommitSectorBatch2"; body: BodyOf<"PreCommitSectorBatch2">; expirations: number[] }
  | { method: "ProveCommitSectors3"; body: BodyOf<"ProveCommitSectors3">; activation: Activation }
  | { method: "ProveReplicaUpdates"; body: BodyOf<"ProveReplicaUpdates">; activation: Activation }
  | {
      method: "SubmitWindowedPoSt";
      body: BodyOf<"SubmitWindowedPoSt">;
      chainCommit: { epoch: number; rand: Uint8Array };
    };

const TAKEN = ["PreCommitSectorBatch2", "ProveCommitSectors3", "ProveReplicaUpdates3", "SubmitWindowedPoSt"] as const;

/**
 * The ChainMessage body of a miner-actor call (the caller adds from and nonce). Throws ChainCodecError:
 * "method" for a method number that is none of the four ChainMessage kinds, "cbor"/"params" for params
 * that do not decode (naming the method and the field), "unsupported" for valid builtin params our chain
 * does not model (aggregate proofs, verified allocations, notifications to other actors), "context" for a
 * missing context field.
 */
export function fromMinerCall(method: number, params: Uint8Array, ctx: FromMinerCallContext = {}): DecodedMinerCall {
  const network = ctx.network ?? "mainnet";
  switch (method) {
    case MINER_METHODS.PreCommitSectorBatch2:
      return preCommitBody(decodeMinerParams("PreCommitSectorBatch2", params, network));
    case MINER_METHODS.ProveCommitSectors3:
      return proveCommitBody(decodeMinerParams("ProveCommitSectors3", params, network));
    case MINER_METHODS.ProveReplicaUpdates3:
      return replicaUpdateBody(decodeMinerParams("ProveReplicaUpdates3", params, network));
    case MINER_METHODS.SubmitWindowedPoSt: {
      const lookback = need(ctx.wpostChallengeLookback, "SubmitWindowedPoSt", "wpostChallengeLookback");
      return windowPoStBody(decodeMinerParams("SubmitWindowedPoSt", params, network), lookback);
    }
    default: {
      const known = Object.entries(MINER_METHODS).find(([, n]) => n === method)?.[0];
      const takes = TAKEN.map((m) => `${MINER_METHODS[m]} (${m})`).join(", ");
      throw new ChainCodecError(
        "method",
        `miner method ${method}${known ? ` (${known})` : ""} is not a ChainMessage; fromMinerCall takes ${takes}`,
      );
    }
  }
}

function commitment(cid: string, kind: "sealed" | "unsealed", path: string): number[] {
  try {
    return Array.from(cidToCommitment(cid, kind));
  } catch (err) {
    throw new ChainCodecError("params", `${path}: ${(err as Error).message}`);
  }
}

function preCommitBody(p: MinerParams["PreCommitSectorBatch2"]): DecodedMinerCall {
  const where = (i: number, field: string) => `PreCommitSectorBatch2 params: sectors[${i}].${field}`;
  return {
    method: "PreCommitSectorBatch2",
    body: {
      method: "PreCommitSectorBatch2",
      sectors: p.sectors.map((s, i) => ({
        number: s.sectorNumber,
        sealProof: s.sealProof,
        commR: commitment(s.sealedCid, "sealed", where(i, "sealedCid")),
        commD:
          s.unsealedCid === null
            ? Array.from(zeroCommD(sectorSizeOf(s.sealProof, where(i, "sealProof"))))
            : commitment(s.unsealedCid, "unsealed", where(i, "unsealedCid")),
        sealRandEpoch: s.sealRandEpoch,
        dealIds: s.dealIds,
      })),
    },
    expirations: p.sectors.map((s) => s.expiration),
  };
}

/** Refuses an aggregate proof, and proofs that do not pair one to one with the sectors. */
function checkOneProofPerSector(
  method: string,
  p: { sectorProofs: Uint8Array[]; aggregateProof: Uint8Array; aggregateProofType: number | null },
  sectors: number,
): void {
  if (p.aggregateProof.length > 0 || p.aggregateProofType !== null) {
    throw new ChainCodecError("unsupported", `${method} params: aggregateProof: aggregated proofs are not supported`);
  }
  if (p.sectorProofs.length !== sectors) {
    throw new ChainCodecError(
      "params",
      `${method} params: sectorProofs: ${p.sectorProofs.length} proofs for ${sectors} sectors; one per sector`,
    );
  }
}

function proveCommitBody(p: MinerParams["ProveCommitSectors3"]): DecodedMinerCall {
  checkOneProofPerSector("ProveCommitSectors3", p, p.sectorActivations.length);
  return {
    method: "ProveCommitSectors3",
    body: {
      method: "ProveCommitSectors3",
      sectors: p.sectorActivations.map((a, i) => ({ number: a.sectorNumber, proof: toBase64(p.sectorProofs[i]!) })),
    },
    activation: {
      pieces: p.sectorActivations.map((a, i) =>
        a.pieces.map((m, j) =>
          pieceFromManifest(m, `ProveCommitSectors3 params: sectorActivations[${i}].pieces[${j}]`),
        ),
      ),
      requireActivationSuccess: p.requireActivationSuccess,
      requireNotificationSuccess: p.requireNotificationSuccess,
    },
  };
}

function replicaUpdateBody(p: MinerParams["ProveReplicaUpdates3"]): DecodedMinerCall {
  checkOneProofPerSector("ProveReplicaUpdates3", p, p.sectorUpdates.length);
  const pieces = p.sectorUpdates.map((u, i) =>
    u.pieces.map((m, j) => pieceFromManifest(m, `ProveReplicaUpdates3 params: sectorUpdates[${i}].pieces[${j}]`)),
  );
  return {
    method: "ProveReplicaUpdates",
    body: {
      method: "ProveReplicaUpdates",
      updates: p.sectorUpdates.map((u, i) => ({
        number: u.sector,
        deadline: u.deadline,
        partition: u.partition,
        newCommR: commitment(u.newSealedCid, "sealed", `ProveReplicaUpdates3 params: sectorUpdates[${i}].newSealedCid`),
        dealIds: dealIdsOf(pieces[i]!),
        updateProof: p.updateProofsType,
        proof: toBase64(p.sectorProofs[i]!),
      })),
    },
    activation: {
      pieces,
      requireActivationSuccess: p.requireActivationSuccess,
      requireNotificationSuccess: p.requireNotificationSuccess,
    },
  };
}

function windowPoStBody(p: MinerParams["SubmitWindowedPoSt"], lookback: number): DecodedMinerCall {
  return {
    method: "SubmitWindowedPoSt",
    body: {
      method: "SubmitWindowedPoSt",
      post: {
        deadline: p.deadline,
        open: p.chainCommitEpoch + lookback,
        partitions: p.partitions.map((x) => ({ index: x.index, skipped: x.skipped, recovered: [] })),
        proofs: p.proofs.map((x) => ({ postProof: x.postProof, proof: toBase64(x.proofBytes) })),
      },
    },
    chainCommit: { epoch: p.chainCommitEpoch, rand: p.chainCommitRand },
  };
}

/** The Filecoin message around a miner call: who sends it, to which miner, with what nonce and gas. */
export interface MinerMessageEnvelope {
  /** The signing address (the miner's worker or a control address). */
  from: string;
  /** The miner actor ("f01000"). */
  to: string;
  /** The sender account's chain nonce (not ChainMessage.nonce, the manager's own sequence). */
  nonce: number | bigint;
  /** attoFIL sent with the call (pre-commit deposit, initial pledge); default 0. */
  value?: bigint;
  gasLimit: number;
  gasFeeCap: bigint;
  gasPremium: bigint;
}

/** The unsigned message carrying `msg` as a miner call; sign it with signMessage. */
export function minerMessage(
  msg: ChainMessageBody,
  envelope: MinerMessageEnvelope,
  ctx: MinerCallContext = {},
): UnsignedMessage {
  const nonce = Number(envelope.nonce);
  if (!Number.isSafeInteger(nonce) || nonce < 0) {
    throw new ChainCodecError("message", `nonce: ${envelope.nonce} is not an unsigned integer below 2^53`);
  }
  const { method, params } = toMinerCall(msg, ctx);
  return {
    version: 0,
    to: envelope.to,
    from: envelope.from,
    nonce,
    value: envelope.value ?? 0n,
    gasLimit: envelope.gasLimit,
    gasFeeCap: envelope.gasFeeCap,
    gasPremium: envelope.gasPremium,
    method,
    params,
  };
}
