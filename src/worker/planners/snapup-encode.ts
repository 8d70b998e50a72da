import { mkdirSync, rmSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import * as v from "valibot";
import { permanent } from "../../core/errors/index.ts";
import type { PieceInfoWire } from "../../core/processor/stages/seal.ts";
import {
  SnapEncodeOutputSchema,
  type SnapEncodeOutputWire,
  SnapProveOutputSchema,
} from "../../core/processor/stages/snap.ts";
import {
  computeCommD,
  fromWirePieceInfo,
  generateEmptySectorUpdatePartitionProofs,
  verifyEmptySectorUpdateProof,
} from "../../core/proofs/index.ts";
import { pieceCid } from "../../core/sector/cid.ts";
import { sealProofInfo, UPDATE_PROOFS, updateProofFor } from "../../core/sector/proof.ts";
import type { DealInfo } from "../../core/sector/wire.ts";
import type { StepContext } from "../thread.ts";
import { addPiecesTask, checkAddedPieces, checkDeals } from "./sealer-deals.ts";
import { type SnapPaths, type SnapupDeps, TREE_D_FILE } from "./snapup-job.ts";

/**
 * The snap work itself, shared by the snapup plan (which encodes deals into a CC replica brought from its
 * persist store) and the rebuild plan (which encodes an upgraded sector's deals again into the CC replica it
 * has just re-sealed): add_pieces, tree_d, snap_encode and snap_prove through the stage runner, the vanilla
 * partition proofs and the final verification in-process. Each step starts over from the files it writes,
 * so a retry never trusts a half-written file. The sector key (p.sealed + p.cache) is only ever read.
 */

type RunStage = (name: string, task: unknown, ctx: StepContext) => Promise<unknown>;

const bytes = (a: readonly number[]) => Uint8Array.from(a);
const same = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  a.length === b.length && Array.from(a).every((x, i) => x === b[i]);

/** The deals' data into a fresh staged file; answers the pieces as add_pieces laid them out. */
export async function addSnapPieces(
  deps: SnapupDeps,
  ctx: StepContext,
  stage: RunStage,
  p: SnapPaths,
  deals: readonly DealInfo[],
): Promise<PieceInfoWire[]> {
  const proof = sealProofInfo(ctx.job.sector!.proof_type);
  checkDeals(deals, proof.sectorSize);
  mkdirSync(dirname(p.staged), { recursive: true });
  // Start from an empty staged file: a retry must not append the pieces twice.
  rmSync(p.staged, { force: true });
  const task = addPiecesTask(proof, p.staged, deals, deps.pieces);
  const answer = await stage("add_pieces", task, ctx);
  return checkAddedPieces(task, answer, deals, proof.sectorSize);
}

/** tree_d of the staged deal data, in prepared/. Never a static tree: a snap sector holds deal data. */
export async function buildSnapTreeD(ctx: StepContext, stage: RunStage, p: SnapPaths): Promise<void> {
  const proof = sealProofInfo(ctx.job.sector!.proof_type);
  rmSync(p.prepared, { recursive: true, force: true });
  mkdirSync(p.prepared, { recursive: true });
  await stage("tree_d", { registered_proof: proof.name, staged_file: p.staged, cache_dir: p.prepared }, ctx);
}

/**
 * snap_encode into a fresh update/ + update-cache/ keyed by the sector key at p.sealed + p.cache (the caller
 * makes it available first); its CommD must be the pieces'.
 */
export async function snapEncode(
  ctx: StepContext,
  stage: RunStage,
  p: SnapPaths,
  pieces: PieceInfoWire[],
): Promise<SnapEncodeOutputWire> {
  const proof = sealProofInfo(ctx.job.sector!.proof_type);
  // An earlier run (killed, failed) may have left a partial replica: start both from nothing.
  rmSync(p.update, { force: true });
  rmSync(p.updateCache, { recursive: true, force: true });
  mkdirSync(dirname(p.update), { recursive: true });
  mkdirSync(p.updateCache, { recursive: true });
  // As the original: the new replica exists at sector size, and tree_d is the one built in prepared/.
  writeFileSync(p.update, "");
  truncateSync(p.update, proof.sectorSize);
  symlinkSync(join(p.prepared, TREE_D_FILE), join(p.updateCache, TREE_D_FILE));
  const answer = await stage(
    "snap_encode",
    {
      registered_proof: UPDATE_PROOFS[updateProofFor(proof.id)]!.rustName,
      new_replica_path: p.update,
      new_cache_path: p.updateCache,
      sector_path: p.sealed,
      sector_cache_path: p.cache,
      staged_data_path: p.staged,
      piece_infos: pieces,
    },
    ctx,
  );
  const out = v.safeParse(SnapEncodeOutputSchema, answer);
  if (!out.success) throw permanent(new Error(`snap_encode returned no commitments: ${out.issues[0].message}`));
  const commD = await computeCommD({ registeredProof: proof.id, pieces: pieces.map(fromWirePieceInfo) });
  if (!same(out.output.comm_d_new, commD))
    throw permanent(
      new Error(
        `snap_encode produced CommD ${pieceCid(out.output.comm_d_new)}, but the sector's pieces give ${pieceCid(commD)}; resume with --state PieceAdded to rebuild tree_d`,
      ),
    );
  return out.output;
}

/**
 * The update proof: vanilla partition proofs in-process, snap_prove through the stage runner, then verified
 * as the chain will verify it (against `commROld`, the sector key's CommR). The sector key must be at
 * p.sealed + p.cache.
 */
export async function snapProve(
  ctx: StepContext,
  stage: RunStage,
  p: SnapPaths,
  commROld: readonly number[],
  enc: SnapEncodeOutputWire,
): Promise<number[]> {
  const updateProof = updateProofFor(ctx.job.sector!.proof_type);
  const comms = {
    updateProof,
    commROld: bytes(commROld),
    commRNew: bytes(enc.comm_r_new),
    commDNew: bytes(enc.comm_d_new),
  };
  ctx.setActivity({ kind: "running", proc: "snap vanilla proofs" });
  let vanilla: Uint8Array[];
  try {
    vanilla = await generateEmptySectorUpdatePartitionProofs({
      ...comms,
      sectorKeyPath: p.sealed,
      sectorKeyCachePath: p.cache,
      replicaPath: p.update,
      replicaCachePath: p.updateCache,
    });
  } catch (err) {
    throw permanent(err, "snap vanilla partition proofs");
  }
  const answer = await stage(
    "snap_prove",
    {
      registered_proof: UPDATE_PROOFS[updateProof]!.rustName,
      vannilla_proofs: vanilla.map((b) => Array.from(b)),
      comm_r_old: Array.from(comms.commROld),
      comm_r_new: enc.comm_r_new,
      comm_d_new: enc.comm_d_new,
    },
    ctx,
  );
  const proof = v.safeParse(SnapProveOutputSchema, answer);
  if (!proof.success) throw permanent(new Error(`snap_prove returned no proof: ${proof.issues[0].message}`));
  ctx.setActivity({ kind: "running", proc: "verify update proof" });
  if (!(await verifyEmptySectorUpdateProof({ ...comms, proof: bytes(proof.output) })))
    throw permanent(new Error("snap_prove generated an update proof that does not verify"));
  return proof.output;
}
