import * as v from "valibot";
import { SectorPublicInfoSchema } from "../../core/sector/api-snap.ts";
import { Base64Schema, CidJsonSchema, type SectorState } from "../../core/sector/index.ts";

/**
 * The snap fields of a SectorState (typed unknown there, since only this module reads them), as the
 * original's core.SectorState writes them: UpgradePublic = the CC sector's SectorPublicInfo when it was
 * allocated, UpgradedInfo = what SubmitSnapUpProof accepted (core.SectorUpgradedInfo).
 */

export const UpgradePublicSchema = SectorPublicInfoSchema;
export type UpgradePublic = v.InferOutput<typeof UpgradePublicSchema>;

export const UpgradedInfoSchema = v.object({
  AccessInstance: v.string(),
  SealedCID: CidJsonSchema,
  UnsealedCID: CidJsonSchema,
  Proof: Base64Schema,
});
export type UpgradedInfo = v.InferOutput<typeof UpgradedInfoSchema>;

export function upgradePublic(state: SectorState): UpgradePublic | undefined {
  const parsed = v.safeParse(UpgradePublicSchema, state.UpgradePublic);
  return parsed.success ? parsed.output : undefined;
}

export function upgradedInfo(state: SectorState): UpgradedInfo | undefined {
  const parsed = v.safeParse(UpgradedInfoSchema, state.UpgradedInfo);
  return parsed.success ? parsed.output : undefined;
}

/** Clears every snap field: the sector is committed capacity again (or never became anything else). */
export function clearUpgrade(state: SectorState): void {
  state.Upgraded = false;
  state.UpgradePublic = null;
  state.UpgradedInfo = null;
  state.UpgradeMessageID = null;
  state.UpgradeLandedEpoch = null;
  state.Pieces = null;
}

/** A miner as the snap module sees it (`[[Miners]]` with its `[Miners.SnapUp]`). */
export interface SnapMiner {
  actor: number;
  sectorSize: number;
  sealProofType: number;
  /** SnapUp.Enabled: workers may take this miner's candidates. */
  enabled: boolean;
  cleanupCCData: boolean;
  /** Epochs a ProveReplicaUpdates must be on chain before the update counts as landed. */
  messageConfidence: number;
  /** Epochs after landing before the sector is finalized and its CC data released. */
  releaseConfidence: number;
  retry: { maxAttempts?: number; pollIntervalMs: number; apiFailureWaitMs: number; localFailureWaitMs: number };
  /** Sealing.SealingEpochDuration: epochs a deal must start after the snap is taken (0: estimated). */
  sealingEpochs: number;
}
