import { mkdirSync, truncateSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { permanent } from "../core/errors/index.ts";
import { definePlugin } from "../core/plugin/api.ts";
import { AddPiecesInputSchema, AddPiecesOutputSchema, type PieceInfoWire } from "../core/processor/stages/seal.ts";
import { addPiece, paddedSize, sealProofFromName, toWirePieceInfo, unpaddedSize } from "../core/proofs/index.ts";
import { zeroCommD } from "../core/sector/commd.ts";
import { fillerPieceSizes, layoutPieces, PieceLayoutError } from "../core/sector/piece-layout.ts";
import { sealProofInfo } from "../core/sector/proof.ts";
import { openPiece } from "./piece-source.ts";

/**
 * add_pieces, as vc-processors' builtin AddPieces: starts the staged file afresh, writes each piece in
 * order (alignment padding before it, fr32 padding inside) and answers the PieceInfo of each. No pieces
 * means a CC sector: the staged file becomes sector-size zeros and the answer the one zero piece of sector
 * size. A list that stops short of the sector's end is completed with zero pieces, which the answer
 * includes: PC1 and C1 need piece_infos that cover the whole sector (a complete list, which is what the
 * worker and the original market send, leaves nothing to fill).
 */
export default definePlugin({
  name: "builtin-add-pieces",
  stage: "add_pieces",
  description: "write deal or pledge pieces into the staged sector file and compute their commitments",
  input: AddPiecesInputSchema,
  output: AddPiecesOutputSchema,
  async run(task, { signal }) {
    const registeredProof = sealProofFromName(task.seal_proof_type);
    const sectorSize = sealProofInfo(registeredProof).sectorSize;
    const dir = dirname(task.staged_filepath);
    mkdirSync(dir, { recursive: true });
    writeFileSync(task.staged_filepath, ""); // never append to what an earlier attempt wrote

    if (task.pieces.length === 0) {
      truncateSync(task.staged_filepath, sectorSize);
      return [{ commitment: [...zeroCommD(sectorSize)], size: unpaddedSize(sectorSize) }];
    }

    let end: number;
    try {
      end = layoutPieces(
        task.pieces.map((p) => paddedSize(p.piece_size)),
        sectorSize,
      ).end;
    } catch (err) {
      if (err instanceof PieceLayoutError) throw permanent(err, "add_pieces");
      throw err;
    }
    const written: number[] = [];
    const out: PieceInfoWire[] = [];
    const write = async (source: { path: string } | "pledge", size: number) => {
      const { piece } = await addPiece({
        registeredProof,
        source,
        stagedPath: task.staged_filepath,
        pieceSize: size,
        existingPieceSizes: written,
      });
      written.push(size);
      out.push(toWirePieceInfo(piece));
    };
    for (const piece of task.pieces) {
      const bytes = await openPiece(piece, dir, signal);
      try {
        await write(bytes.source, piece.piece_size);
      } finally {
        bytes.dispose();
      }
    }
    for (const padded of fillerPieceSizes(end, sectorSize)) await write("pledge", unpaddedSize(padded));
    return out;
  },
});
