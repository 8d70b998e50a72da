import { createHash } from "node:crypto";
import type { Network } from "../../core/chain/address.ts";
import { addressId, idAddress, parseAddress, withNetwork } from "../../core/chain/address.ts";
import type { LotusDeadlineInfo, LotusMarketDeal, LotusSectorOnChainInfo } from "../../core/chain/lotus-api.ts";
import { RpcError, RpcErrorCode } from "../../core/rpc/errors.ts";
import type {
  ChainPolicy,
  DeadlineInfo,
  OnChainDeal,
  OnChainPreCommit,
  OnChainSector,
} from "../../core/sector/chain.ts";
import { commDToCid, commRToCid, zeroCommD } from "../../core/sector/index.ts";

/**
 * The devnet's records in the node API's Lotus shapes, and the devnet's documented choices where a real
 * chain has state the devnet does not keep (fees, pledge, the network's identity).
 */

/** Addresses the devnet writes are testnet ones (t0…), like a Lotus devnet's; both prefixes are read. */
export const DEVNET_ADDRESS_NETWORK: Network = "testnet";

/** The network version the devnet reports: nv23, whose miner methods the codec speaks. */
export const DEVNET_NETWORK_VERSION = 23;

/** Lotus' FullAPIVersion1 (2.3.0), so a client that checks the API version accepts the devnet. */
export const DEVNET_API_VERSION = 0x020300;

/** The base fee of every devnet tipset, in attoFIL: Lotus' minimum base fee (the devnet is never congested). */
export const DEVNET_BASE_FEE = "100";

/**
 * Pledge on the devnet, in attoFIL per byte of quality-adjusted power: a flat rate instead of the
 * network's reward and circulating-supply formula (a 32 GiB CC sector pledges about 3.4 FIL, 2 KiB
 * 0.0000002 FIL). The PreCommit deposit is the same amount as the initial pledge; neither depends on the
 * sector's duration.
 */
export const DEVNET_PLEDGE_PER_QA_BYTE = 100_000_000n;

/** Verified deal bytes count ten times (builtin VerifiedDealWeightMultiplier / QualityBaseMultiplier). */
export function qualityAdjustedPower(sectorSize: number, verifiedBytes: number): bigint {
  return BigInt(sectorSize) + 9n * BigInt(Math.min(verifiedBytes, sectorSize));
}

export function pledgeFor(sectorSize: number, verifiedBytes: number): string {
  return (qualityAdjustedPower(sectorSize, verifiedBytes) * DEVNET_PLEDGE_PER_QA_BYTE).toString();
}

/** The devnet's network name: the prefix clients detect a devnet by, and a short hash of its seed. */
export function devnetNetworkName(prefix: string, seed: string): string {
  return `${prefix}-${createHash("sha256").update(seed).digest("hex").slice(0, 8)}`;
}

/** An ID address string on the devnet. */
export function actorAddress(actor: number): string {
  return idAddress(actor, DEVNET_ADDRESS_NETWORK).string;
}

/** An error whose data carries our code (a RejectionCode or "unknown-sector"…), so clients branch on codes. */
export function refusal(code: string, message: string): RpcError {
  return new RpcError(RpcErrorCode.InvalidParams, message, { code });
}

/** The actor id of an ID address param; any other address is refused naming the param. */
export function actorOfAddress(param: string, text: string): number {
  let id: bigint;
  try {
    id = addressId(parseAddress(text));
  } catch (err) {
    throw refusal(
      "malformed",
      `${param} ${JSON.stringify(text)}: ${(err as Error).message}; give the ID address (t0…)`,
    );
  }
  return Number(id);
}

export function lotusDeadlineInfo(policy: ChainPolicy, dl: DeadlineInfo): LotusDeadlineInfo {
  // The devnet takes fault declarations only inside the WindowPoSt (skipped sectors), so the declaration
  // cutoff is the challenge: after it the partition's sectors are fixed for this deadline instance.
  const cutoff = policy.wpostChallengeLookback;
  return {
    CurrentEpoch: dl.currentEpoch,
    PeriodStart: dl.periodStart,
    Index: dl.index,
    Open: dl.open,
    Close: dl.close,
    Challenge: dl.challenge,
    FaultCutoff: dl.open - cutoff,
    WPoStPeriodDeadlines: policy.wpostPeriodDeadlines,
    WPoStProvingPeriod: policy.wpostPeriodDeadlines * policy.wpostChallengeWindow,
    WPoStChallengeWindow: policy.wpostChallengeWindow,
    WPoStChallengeLookback: policy.wpostChallengeLookback,
    FaultDeclarationCutoff: cutoff,
  };
}

export function lotusSector(s: OnChainSector): LotusSectorOnChainInfo {
  return {
    SectorNumber: s.number,
    SealProof: s.sealProof,
    SealedCID: { "/": commRToCid(s.commR) },
    DealIDs: s.dealIds ?? [],
    Activation: s.activation,
    Expiration: s.expiration,
    SectorKeyCID: s.sectorKeyCommR ? { "/": commRToCid(s.sectorKeyCommR) } : null,
  };
}

/** A CC sector's UnsealedCid is null (builtin CompactCommD), a sector with deals carries its CommD. */
export function lotusPreCommit(pc: OnChainPreCommit, sectorSize: number, expiration: number, deposit: string) {
  const zero = zeroCommD(sectorSize);
  const isZero = pc.commD.every((b, i) => b === zero[i]);
  return {
    Info: {
      SealProof: pc.sealProof,
      SectorNumber: pc.number,
      SealedCID: { "/": commRToCid(pc.commR) },
      SealRandEpoch: pc.sealRandEpoch,
      DealIDs: pc.dealIds,
      Expiration: expiration,
      UnsealedCid: isZero ? null : { "/": commDToCid(pc.commD) },
    },
    PreCommitDeposit: deposit,
    PreCommitEpoch: pc.preCommitEpoch,
  };
}

/** An address of a deal party as the devnet writes it; a proposal's client that is not one is refused. */
export function partyAddress(what: string, text: string): string {
  try {
    return withNetwork(parseAddress(text), DEVNET_ADDRESS_NETWORK).string;
  } catch (err) {
    throw refusal("malformed", `${what} ${JSON.stringify(text)} is not an address: ${(err as Error).message}`);
  }
}

export function lotusMarketDeal(d: OnChainDeal): LotusMarketDeal {
  const p = d.proposal;
  return {
    Proposal: {
      PieceCID: { "/": p.pieceCid },
      PieceSize: p.pieceSize,
      VerifiedDeal: p.verified,
      Client: partyAddress(`deal ${d.id}'s client`, p.client),
      Provider: actorAddress(p.provider),
      Label: p.label,
      StartEpoch: p.startEpoch,
      EndEpoch: p.endEpoch,
      StoragePricePerEpoch: "0",
      ProviderCollateral: "0",
      ClientCollateral: "0",
    },
    State: {
      SectorStartEpoch: d.state === "active" ? (d.activationEpoch ?? -1) : -1,
      LastUpdatedEpoch: d.closedEpoch ?? d.activationEpoch ?? d.publishEpoch,
      SlashEpoch: d.state === "slashed" ? (d.closedEpoch ?? -1) : -1,
      ...(d.sectorNumber !== undefined ? { SectorNumber: d.sectorNumber } : {}),
    },
  };
}
