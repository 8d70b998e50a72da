import { cbor, idAddress } from "../../../core/chain/index.ts";
import type {
  LotusBitfield,
  LotusDeadlineInfo,
  LotusMarketDeal,
  LotusMinerInfo,
  LotusSectorOnChainInfo,
  TipSet,
} from "../../../core/chain/lotus-api.ts";
import type {
  ChainHead,
  DeadlineInfo,
  MinerInfo,
  OnChainDeal,
  OnChainPreCommit,
  OnChainSector,
  ProvingSector,
} from "../../../core/sector/chain.ts";
import { cidToCommitment } from "../../../core/sector/cid.ts";
import { zeroCommD } from "../../../core/sector/commd.ts";
import { postProofInfo, sealProofFor, sealProofInfo } from "../../../core/sector/proof.ts";
import { LotusChainError } from "./errors.ts";

/**
 * Lotus answers → the manager's chain types, as small pure functions: what each Lotus field means for us
 * is decided here once, and tested without a node.
 */

/** go-state-types crypto.DomainSeparationTag: the domains the manager draws randomness for. */
export const DomainSeparationTag = {
  TicketProduction: 1,
  ElectionProofProduction: 2,
  WinningPoStChallengeSeed: 3,
  WindowedPoStChallengeSeed: 4,
  SealRandomness: 5,
  InteractiveSealChallengeSeed: 6,
} as const;

/** How many numbers one decoded bitfield may hold: far above a partition or a miner's faults. */
const MAX_BITFIELD_MEMBERS = 1 << 22;

/**
 * go-bitfield JSON runs (first run absent) → the set members, ascending. Unlike core's
 * lotusBitfieldNumbers it is bounded: a node's answer of a few bytes cannot make the manager expand 2^40
 * bits, and a refusal carries a code.
 */
export function bitfieldMembers(runs: LotusBitfield, what = "bitfield"): number[] {
  const out: number[] = [];
  let position = 0;
  runs.forEach((length, i) => {
    if (i % 2 === 1) {
      if (out.length + length > MAX_BITFIELD_MEMBERS) {
        throw new LotusChainError("bad-answer", `${what} sets more than ${MAX_BITFIELD_MEMBERS} bits`);
      }
      for (let k = 0; k < length; k++) out.push(position + k);
    }
    position += length;
    if (!Number.isSafeInteger(position)) throw new LotusChainError("bad-answer", `${what} runs past 2^53`);
  });
  return out;
}

export function headFromTipSet(ts: TipSet): ChainHead {
  const first = ts.Blocks[0];
  if (!first) throw new LotusChainError("bad-answer", `ChainHead answered a tipset at ${ts.Height} without blocks`);
  return { epoch: ts.Height, timestamp: first.Timestamp * 1000 };
}

/**
 * The seal proof a miner's new sectors use, from its WindowPoSt proof type (MinerInfo carries no seal
 * type): the V1_1 seal proof of the same sector size, what lotus-miner seals with by default.
 */
export function sealProofForWindowPoSt(windowPoStProofType: number): number {
  let info: ReturnType<typeof postProofInfo>;
  try {
    info = postProofInfo(windowPoStProofType);
  } catch (err) {
    throw new LotusChainError("bad-answer", (err as Error).message);
  }
  if (info.kind !== "window") {
    throw new LotusChainError(
      "bad-answer",
      `WindowPoStProofType ${windowPoStProofType} (${info.name}) is not a WindowPoSt proof type`,
    );
  }
  return sealProofFor(info.sectorSize, "V1_1");
}

export function minerInfoFromLotus(actor: number, info: LotusMinerInfo): MinerInfo {
  const sealProofType = sealProofForWindowPoSt(info.WindowPoStProofType);
  if (sealProofInfo(sealProofType).sectorSize !== info.SectorSize) {
    throw new LotusChainError(
      "bad-answer",
      `miner f0${actor}: SectorSize ${info.SectorSize} does not match WindowPoStProofType ${info.WindowPoStProofType}`,
    );
  }
  return { actor, sectorSize: info.SectorSize, sealProofType, windowPoStProofType: info.WindowPoStProofType };
}

/** The miner's ID address as the node spells addresses ("f01000" on mainnet, "t01000" elsewhere). */
export function minerAddress(actor: number, networkName: string): string {
  return idAddress(actor, networkName === "mainnet" ? "mainnet" : "testnet").string;
}

/** The actor id of an ID address ("f01000" → 1000); a LotusChainError for any other kind. */
export function actorIdOf(address: string, what: string): number {
  const m = /^[ft]0(\d+)$/.exec(address);
  if (!m || !Number.isSafeInteger(Number(m[1]))) {
    throw new LotusChainError("bad-answer", `${what} ${JSON.stringify(address)} is not an ID address (f0…)`);
  }
  return Number(m[1]);
}

/** Randomness entropy as lotus-miner draws it: the CBOR of the miner's address (a byte string). */
export function minerEntropy(actor: number): string {
  const bytes = cbor.encodeWith(cbor.address("mainnet"), idAddress(actor).string, "randomness entropy");
  return Buffer.from(bytes).toString("base64");
}

/** 32 bytes of randomness from the node's base64; PoSt randomness is made a canonical BLS12-381 scalar. */
export function randomnessBytes(base64: string | null, method: string, forPoSt: boolean): Uint8Array {
  const bytes = new Uint8Array(Buffer.from(base64 ?? "", "base64"));
  if (bytes.length !== 32) {
    throw new LotusChainError("bad-answer", `${method} answered ${bytes.length} bytes of randomness, expected 32`);
  }
  // The proofs take PoSt randomness through as_safe_commitment; lotus-miner clears the same two bits.
  if (forPoSt) bytes[31]! &= 0x3f;
  return bytes;
}

export function deadlineFromLotus(dl: LotusDeadlineInfo): DeadlineInfo {
  return {
    currentEpoch: dl.CurrentEpoch,
    periodStart: dl.PeriodStart,
    index: dl.Index,
    open: dl.Open,
    close: dl.Close,
    challenge: dl.Challenge,
  };
}

/**
 * The deadline index of the instance opening at `open`, from any deadline info of the same miner; undefined
 * when no deadline of that miner opens at `open`.
 */
export function deadlineIndexAt(dl: LotusDeadlineInfo, open: number): number | undefined {
  const offset = open - dl.PeriodStart;
  if (offset % dl.WPoStChallengeWindow !== 0) return undefined;
  const slot = offset / dl.WPoStChallengeWindow;
  return ((slot % dl.WPoStPeriodDeadlines) + dl.WPoStPeriodDeadlines) % dl.WPoStPeriodDeadlines;
}

type LotusPreCommit = {
  Info: {
    SealProof: number;
    SectorNumber: number;
    SealedCID: { "/": string };
    SealRandEpoch: number;
    DealIDs: number[] | null;
    UnsealedCid?: { "/": string } | null | undefined;
  };
  PreCommitEpoch: number;
};

function commitment(cid: string, kind: "sealed" | "unsealed", what: string): number[] {
  try {
    return [...cidToCommitment(cid, kind)];
  } catch (err) {
    throw new LotusChainError("bad-answer", `${what}: ${(err as Error).message}`);
  }
}

export function preCommitFromLotus(pc: LotusPreCommit): OnChainPreCommit {
  const info = pc.Info;
  const what = `sector ${info.SectorNumber} pre-commit`;
  // A committed-capacity sector has no UnsealedCid: its CommD is the zero-filled sector's.
  const commD = info.UnsealedCid
    ? commitment(info.UnsealedCid["/"], "unsealed", `${what} UnsealedCid`)
    : [...zeroCommD(sealProofInfo(info.SealProof).sectorSize)];
  return {
    number: info.SectorNumber,
    sealProof: info.SealProof,
    commR: commitment(info.SealedCID["/"], "sealed", `${what} SealedCID`),
    commD,
    sealRandEpoch: info.SealRandEpoch,
    dealIds: info.DealIDs ?? [],
    preCommitEpoch: pc.PreCommitEpoch,
  };
}

export function sectorFromLotus(
  s: LotusSectorOnChainInfo,
  location: { Deadline: number; Partition: number },
): OnChainSector {
  const what = `sector ${s.SectorNumber}`;
  return {
    number: s.SectorNumber,
    sealProof: s.SealProof,
    commR: commitment(s.SealedCID["/"], "sealed", `${what} SealedCID`),
    activation: s.Activation,
    expiration: s.Expiration,
    deadline: location.Deadline,
    partition: location.Partition,
    dealIds: s.DealIDs ?? [],
    ...(s.SectorKeyCID ? { sectorKeyCommR: commitment(s.SectorKeyCID["/"], "sealed", `${what} SectorKeyCID`) } : {}),
  };
}

/** A sector as PoSt needs it; a sector key means the replica is a snap update. */
export function provingSectorFromLotus(s: {
  SectorNumber: number;
  SealProof: number;
  SealedCID: { "/": string };
  SectorKeyCID?: { "/": string } | null | undefined;
}): ProvingSector {
  return {
    number: s.SectorNumber,
    sealProof: s.SealProof,
    commR: commitment(s.SealedCID["/"], "sealed", `sector ${s.SectorNumber} SealedCID`),
    upgraded: Boolean(s.SectorKeyCID),
  };
}

/**
 * A market deal as the manager knows deals: slashed once SlashEpoch is set; active once its sector started
 * it (expired after its EndEpoch); a deal never activated is expired once its StartEpoch passed. Lotus does
 * not keep the publish epoch: publishEpoch is -1 (unknown).
 */
export function dealFromLotus(id: number, deal: LotusMarketDeal, head: number): OnChainDeal {
  const p = deal.Proposal;
  const st = deal.State;
  const proposal = {
    pieceCid: p.PieceCID["/"],
    pieceSize: p.PieceSize,
    client: p.Client,
    provider: actorIdOf(p.Provider, `deal ${id} Provider`),
    startEpoch: p.StartEpoch,
    endEpoch: p.EndEpoch,
    verified: p.VerifiedDeal,
    label: typeof p.Label === "string" ? p.Label : "",
  };
  const sector = st.SectorNumber !== undefined && st.SectorStartEpoch >= 0 ? { sectorNumber: st.SectorNumber } : {};
  const base = { id, proposal, publishEpoch: -1, ...sector };
  if (st.SlashEpoch >= 0) {
    return {
      ...base,
      state: "slashed",
      closedEpoch: st.SlashEpoch,
      ...(st.SectorStartEpoch >= 0 ? { activationEpoch: st.SectorStartEpoch } : {}),
    };
  }
  if (st.SectorStartEpoch >= 0) {
    const ended = head > p.EndEpoch;
    return {
      ...base,
      state: ended ? "expired" : "active",
      activationEpoch: st.SectorStartEpoch,
      ...(ended ? { closedEpoch: p.EndEpoch } : {}),
    };
  }
  if (head > p.StartEpoch) return { ...base, state: "expired", closedEpoch: p.StartEpoch };
  return { ...base, state: "published" };
}

/** A power claim (a decimal string) as a number of bytes; beyond 2^53 it is rounded, which display tolerates. */
export function powerBytes(claim: string): number {
  return Number(BigInt(claim));
}
