import { rmSync, statSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { permanent } from "../../core/errors/index.ts";
import {
  type AddPiecesInput,
  type PieceFile,
  PieceInfoSchema,
  type PieceInfoWire,
} from "../../core/processor/stages/seal.ts";
import { paddedSize as padded, unpaddedSize as unpadded } from "../../core/proofs/types.ts";
import { Venus } from "../../core/sector/api.ts";
import { CommitmentCidError, pieceCid, pieceCommitment } from "../../core/sector/cid.ts";
import { zeroCommD } from "../../core/sector/commd.ts";
import { fillerPieceSizes, isPaddedPieceSize, layoutPieces, PieceLayoutError } from "../../core/sector/piece-layout.ts";
import { type SealProofInfo, sealProofInfo } from "../../core/sector/proof.ts";
import type { DealInfo } from "../../core/sector/wire.ts";
import { sleep } from "../../core/sync/semaphore.ts";
import { sectorId } from "../manager-client.ts";
import type { StepContext, StepOutcome } from "../thread.ts";
import type { SealerEvent } from "./sealer.ts";
import { type PieceSources, phases, type SealerDeps, sectorPaths } from "./sealer-job.ts";

/**
 * Data in: the Allocated (AcquireDeals) and DealsAcquired (add_pieces) steps of the sealer plan, built as
 * the original worker builds them. A CC sector sends `pieces: []`; a deal sector sends one piece per deal
 * (ID 0 is a pledge piece, as the original market fills gaps) followed by the zero pieces that fill the
 * sector, each with its UNPADDED size and its bytes from `local_pieces_dirs` or the manager's piece store.
 */

type RunStage = (name: string, task: unknown, ctx: StepContext) => Promise<unknown>;

/** The manager's piece store: `<origin of the manager's RPC address>/piecestore` (the original's RemotePieceStore). */
export function pieceStoreUrl(rpcUrl: string): string {
  return `${new URL(rpcUrl).origin}/piecestore`;
}

/** The original's lookup: `<dir>/<cid>`, then `<dir>/<cid>.car`, for each local dir in order; else a URL. */
export function locatePiece(cid: string, sources: PieceSources): PieceFile {
  for (const dir of sources.localDirs) {
    for (const name of [cid, `${cid}.car`]) {
      const path = join(dir, name);
      if (statSync(path, { throwIfNoEntry: false })?.isFile()) return { local: path };
    }
  }
  return { url: `${sources.storeUrl}/${encodeURIComponent(cid)}` };
}

const cidOf = (d: DealInfo) => d.Piece.Cid["/"];
const sameBytes = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  a.length === b.length && Array.from(a).every((x, i) => x === b[i]);

/** An AcquireDeals answer the job may keep: piece CIDs, piece sizes, payloads that fit, pieces that fit the sector. */
export function checkDeals(deals: readonly DealInfo[], sectorSize: number): void {
  const bad = (d: DealInfo, why: string) =>
    permanent(new Error(`the manager assigned deal ${d.ID} (piece ${cidOf(d)}), which ${why}`));
  for (const d of deals) {
    let commP: Uint8Array;
    try {
      commP = pieceCommitment(cidOf(d));
    } catch (err) {
      if (err instanceof CommitmentCidError) throw bad(d, `has no piece CID: ${err.message}`);
      throw err;
    }
    if (!isPaddedPieceSize(d.Piece.Size)) throw bad(d, `has padded size ${d.Piece.Size}, not a power of two ≥ 128`);
    if (d.PayloadSize > unpadded(d.Piece.Size))
      throw bad(d, `has a payload of ${d.PayloadSize} bytes, more than its piece holds (${unpadded(d.Piece.Size)})`);
    if (d.ID === 0 && !sameBytes(commP, zeroCommD(d.Piece.Size)))
      throw bad(d, "marks a pledge piece (ID 0) but is not the zero piece of its size");
  }
  try {
    layoutPieces(
      deals.map((d) => d.Piece.Size),
      sectorSize,
    );
  } catch (err) {
    if (err instanceof PieceLayoutError) throw permanent(err, "the assigned deals do not fit the sector");
    throw err;
  }
}

/** The add_pieces task of a sector (vc-processors' AddPieces). */
export function addPiecesTask(
  proof: SealProofInfo,
  stagedPath: string,
  deals: readonly DealInfo[] | null,
  sources: PieceSources,
): AddPiecesInput {
  const pieces: AddPiecesInput["pieces"] = (deals ?? []).map((d) => ({
    piece_file: d.ID === 0 ? "pledge" : locatePiece(cidOf(d), sources),
    payload_size: d.PayloadSize,
    piece_size: unpadded(d.Piece.Size),
  }));
  if (pieces.length > 0) {
    const { end } = layoutPieces(
      deals!.map((d) => d.Piece.Size),
      proof.sectorSize,
    );
    for (const size of fillerPieceSizes(end, proof.sectorSize))
      pieces.push({ piece_file: "pledge", payload_size: 0, piece_size: unpadded(size) });
  }
  return { seal_proof_type: proof.rustName, pieces, staged_filepath: stagedPath };
}

/**
 * What add_pieces answered must be what the sector is meant to hold: one PieceInfo per task piece (the one
 * zero piece of sector size for CC), each deal piece with the CommP its piece CID names, each pledge piece
 * the zero piece. A mismatch is permanent: reading the same piece again gives the same bytes, so an
 * operator must replace the piece (or abort the sector, which releases its deals) before anything is sealed.
 */
export function checkAddedPieces(
  task: AddPiecesInput,
  answer: unknown,
  deals: readonly DealInfo[],
  sectorSize: number,
): PieceInfoWire[] {
  const parsed = v.safeParse(v.array(PieceInfoSchema), answer);
  if (!parsed.success) throw permanent(new Error(`add_pieces returned no piece list: ${parsed.issues[0].message}`));
  const got = parsed.output;
  const expected =
    task.pieces.length === 0
      ? [{ commitment: zeroCommD(sectorSize), size: unpadded(sectorSize), what: "the CC sector's zero piece" }]
      : task.pieces.map((p, i) => {
          const deal = deals[i];
          const from = typeof p.piece_file === "string" ? "" : ` from ${Object.values(p.piece_file)[0]}`;
          return deal && deal.ID !== 0
            ? { commitment: pieceCommitment(cidOf(deal)), size: p.piece_size, what: `deal ${deal.ID}'s piece${from}` }
            : { commitment: zeroCommD(padded(p.piece_size)), size: p.piece_size, what: `pledge piece #${i}` };
        });
  if (got.length !== expected.length)
    throw permanent(
      new Error(
        `add_pieces answered ${got.length} piece(s) for a sector of ${expected.length}: the sector is not sealed`,
      ),
    );
  expected.forEach((want, i) => {
    const have = got[i]!;
    if (have.size !== want.size || !sameBytes(have.commitment, want.commitment))
      throw permanent(
        new Error(
          `piece data mismatch: ${want.what} should be ${pieceCid(want.commitment)} (${want.size} bytes) but add_pieces wrote ${pieceCid(have.commitment)} (${have.size} bytes); the sector is not sealed`,
        ),
      );
  });
  return got;
}

/** Allocated: ask for deals when the thread takes them; with `disable_cc`, wait until some arrive. */
export async function acquireDeals(deps: SealerDeps, ctx: StepContext): Promise<StepOutcome<SealerEvent>> {
  const s = ctx.settings;
  // Deals off: a CC sector, exactly as before deals existed (the original idles instead if disable_cc is set too).
  if (!s.enable_deals) return { event: "AcquireDeals", patch: { deals: null } };
  const answer = await deps.manager.call(Venus.AcquireDeals, sectorId(ctx.job), {
    MaxDeals: s.max_deals ?? null,
    MinUsedSpace: s.min_deal_space ?? null,
  });
  const deals = answer && answer.length > 0 ? answer : null;
  if (!deals) {
    if (!s.disable_cc) return { event: "AcquireDeals", patch: { deals: null } };
    ctx.setActivity({ kind: "waiting", on: "deals (disable_cc)" });
    await sleep(s.recover_interval, ctx.signal);
    return { idle: true };
  }
  checkDeals(deals, sealProofInfo(ctx.job.sector!.proof_type).sectorSize);
  ctx.log.info(
    `${sectorPaths(deps.location, ctx.job).name}: ${deals.length} deal piece(s): ${deals.map((d) => `${d.ID}:${cidOf(d)}`).join(", ")}`,
  );
  return { event: "AcquireDeals", patch: { deals } };
}

/** DealsAcquired (sealer) and Allocated (rebuild): write the pieces into a fresh staged file and check what was written. */
export async function addPieces(deps: SealerDeps, ctx: StepContext, stage: RunStage): Promise<StepOutcome<"AddPiece">> {
  const p = sectorPaths(deps.location, ctx.job);
  const proof = sealProofInfo(ctx.job.sector!.proof_type);
  const deals = phases(ctx.job).deals ?? null;
  // Start from an empty staged file: a retry must not append the pieces twice.
  rmSync(p.staged, { force: true });
  const task = addPiecesTask(proof, p.staged, deals, deps.pieces);
  const answer = await stage("add_pieces", task, ctx);
  return { event: "AddPiece", patch: { pieces: checkAddedPieces(task, answer, deals ?? [], proof.sectorSize) } };
}
