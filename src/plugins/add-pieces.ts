import { mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { definePlugin } from "../core/plugin/api.ts";
import { AddPiecesInputSchema, AddPiecesOutputSchema } from "../core/processor/stages/seal.ts";
import { addPiece, sealProofFromName, toWirePieceInfo, unpaddedSize } from "../core/proofs/index.ts";

/** Download a deal piece (Authorization: Bearer PIECE_FETCHER_TOKEN) next to the staged file. */
async function fetchPiece(url: string, dir: string, signal: AbortSignal): Promise<string> {
  const token = process.env.PIECE_FETCHER_TOKEN;
  const res = await fetch(url, { signal, headers: token ? { authorization: `Bearer ${token}` } : {} });
  if (!res.ok) throw new Error(`piece download ${url} failed: HTTP ${res.status} ${res.statusText}`);
  const path = join(dir, `.piece-${crypto.randomUUID()}`);
  await Bun.write(path, res);
  return path;
}

/**
 * add_pieces: writes the sector's pieces into the staged file, in order, with alignment padding.
 * `piece_size` is the padded piece size (a power of two, as in deals); pledge pieces are zeros.
 */
export default definePlugin({
  name: "builtin-add-pieces",
  stage: "add_pieces",
  description: "write pledge or deal pieces into the staged sector file and compute their commitments",
  input: AddPiecesInputSchema,
  output: AddPiecesOutputSchema,
  async run(task, { signal }) {
    const registeredProof = sealProofFromName(task.seal_proof_type);
    mkdirSync(dirname(task.staged_filepath), { recursive: true });
    const existing: number[] = [];
    const out = [];
    for (const piece of task.pieces) {
      const unpadded = unpaddedSize(piece.piece_size);
      const file = piece.piece_file;
      const downloaded =
        file !== "pledge" && !("local" in file)
          ? await fetchPiece(file.url, dirname(task.staged_filepath), signal)
          : undefined;
      const source =
        file === "pledge" ? ("pledge" as const) : { path: "local" in file ? file.local : (downloaded as string) };
      try {
        const { piece: info } = await addPiece({
          registeredProof,
          source,
          stagedPath: task.staged_filepath,
          pieceSize: unpadded,
          existingPieceSizes: existing,
        });
        existing.push(unpadded);
        out.push(toWirePieceInfo(info));
      } finally {
        if (downloaded) rmSync(downloaded, { force: true });
      }
    }
    return out;
  },
});
