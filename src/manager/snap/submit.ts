import { childLogger } from "../../core/log/index.ts";
import type { SnapUpOnChainInfo } from "../../core/sector/api-snap.ts";
import {
  commDToCid,
  commRToCid,
  fromB64,
  pieceCommitment,
  type SectorID,
  type SubmitResp,
  SubmitResult,
  sealProofInfo,
  sectorName,
  updateProofFor,
} from "../../core/sector/index.ts";
import { InvalidProofError } from "../../devnet/index.ts";
import { sectorPieces } from "../market/market.ts";
import type { SnapDeps } from "./deps.ts";
import { type UpgradedInfo, upgradedInfo, upgradePublic } from "./records.ts";

const log = childLogger("snap");

const resp = (Res: number, Desc: string | null = null): SubmitResp => ({ Res, Desc });

/**
 * SubmitSnapUpProof: the worker's update checked as the chain will check it — the pieces are the sector's,
 * CommD is theirs, the proof verifies against the CC sector's CommR — and its files are where it says
 * (FilesMissed otherwise, and the worker persists again). Accepting records the update (UpgradedInfo),
 * indexes update/ + update-cache/ as the sector's "upgrade" replica and queues the sector for a
 * ProveReplicaUpdates batch, in one durable transaction; the committer does the rest.
 */
export async function submitSnapUpProof(deps: SnapDeps, sid: SectorID, info: SnapUpOnChainInfo): Promise<SubmitResp> {
  const state = deps.states.mustOnline(sid);
  const name = sectorName(sid);
  const pub = upgradePublic(state);
  if (!state.Upgraded || !pub)
    return resp(
      SubmitResult.Rejected,
      `${name} is not being snap-updated (it was not allocated by AllocateSanpUpSector)`,
    );
  const pieces = sectorPieces(state);
  const cids = (info.Pieces ?? []).map((c) => c["/"]);
  if (pieces.length === 0) return resp(SubmitResult.Rejected, `${name} has no deal pieces assigned`);
  if (cids.length !== pieces.length || pieces.some((p, i) => p.Piece.Cid["/"] !== cids[i]))
    return resp(
      SubmitResult.Rejected,
      `the update's pieces (${cids.join(", ") || "none"}) are not ${name}'s assigned pieces (${pieces.map((p) => p.Piece.Cid["/"]).join(", ")})`,
    );
  const accepted: UpgradedInfo = {
    AccessInstance: info.AccessInstance,
    SealedCID: { "/": commRToCid(info.CommR) },
    UnsealedCID: { "/": commDToCid(info.CommD) },
    Proof: info.Proof,
  };
  const previous = upgradedInfo(state);
  if (previous) {
    // The same update proven again (SNARKs are randomized, so the bytes differ) is the same submission:
    // the first proof stays.
    const same =
      previous.SealedCID["/"] === accepted.SealedCID["/"] && previous.UnsealedCID["/"] === accepted.UnsealedCID["/"];
    if (same) return resp(SubmitResult.DuplicateSubmit);
    return resp(
      SubmitResult.MismatchedSubmission,
      `${name} already has an accepted update (CommR ${previous.SealedCID["/"]}); a different one cannot replace it`,
    );
  }

  const expectedCommD = await deps.commD.computeCommD(
    state.SectorType,
    pieces.map((p) => ({ commP: pieceCommitment(p.Piece.Cid["/"]), paddedSize: p.Piece.Size })),
  );
  if (commDToCid(expectedCommD) !== accepted.UnsealedCID["/"])
    return resp(
      SubmitResult.MismatchedSubmission,
      `CommD ${accepted.UnsealedCID["/"]} is not the commitment of ${name}'s pieces (${commDToCid(expectedCommD)})`,
    );

  const missing = deps.stores.checkPersisted(
    info.AccessInstance,
    sid,
    sealProofInfo(state.SectorType).sectorSize,
    true,
  );
  if (missing) {
    log.warn(`SubmitSnapUpProof ${name} in "${info.AccessInstance}": ${missing}`);
    return resp(SubmitResult.FilesMissed, missing);
  }

  let valid: boolean;
  let malformed = "";
  try {
    valid = await deps.verifier.verifyReplicaUpdate({
      updateProof: updateProofFor(state.SectorType),
      commROld: Uint8Array.from(pub.CommR),
      commRNew: Uint8Array.from(info.CommR),
      commDNew: Uint8Array.from(info.CommD),
      proof: fromB64(info.Proof),
    });
  } catch (err) {
    // Not a verdict (no addon, no parameters): the worker gets an error and retries later.
    if (!(err instanceof InvalidProofError)) throw err;
    valid = false;
    malformed = ` (${err.reason})`;
  }
  if (!valid)
    return resp(
      SubmitResult.Rejected,
      `invalid update proof for ${name}: verify_empty_sector_update_proof rejected it for the CC CommR ${pub.SealedCID["/"]}, the new CommR and the pieces' CommD${malformed}`,
    );

  const now = (deps.now ?? Date.now)();
  await deps.store.durable(() => {
    deps.states.update(sid, (s) => {
      s.UpgradedInfo = accepted;
      s.UpgradeMessageID = null;
      s.UpgradeLandedEpoch = null;
    });
    deps.indexer.update("upgrade", sid, { sealed: info.AccessInstance, cache: info.AccessInstance });
    deps.commit.markPending("snap", sid, now);
  });
  log.info(`${name}: snap update accepted (CommR ${accepted.SealedCID["/"]}), queued for ProveReplicaUpdates`);
  void deps.commit.kick(sid.Miner, "snap");
  return resp(SubmitResult.Accepted);
}
