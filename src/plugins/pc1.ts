import * as v from "valibot";
import { definePlugin } from "../core/plugin/api.ts";
import { PC1InputSchema } from "../core/processor/stages/seal.ts";
import { fromWireBytes, fromWirePieceInfo, sealPreCommitPhase1, sealProofFromName } from "../core/proofs/index.ts";

/** pc1: SDR labelling. The output is rust-fil-proofs' SealPreCommitPhase1Output JSON, passed to pc2 as is. */
export default definePlugin({
  name: "builtin-pc1",
  stage: "pc1",
  description: "PreCommit phase 1 (SDR labels)",
  input: PC1InputSchema,
  output: v.looseObject({ registered_proof: v.string() }),
  async run(task) {
    return sealPreCommitPhase1({
      registeredProof: sealProofFromName(task.registered_proof),
      cachePath: task.cache_path,
      inPath: task.in_path,
      outPath: task.out_path,
      proverId: fromWireBytes(task.prover_id),
      sectorId: task.sector_id,
      ticket: fromWireBytes(task.ticket),
      pieces: task.piece_infos.map(fromWirePieceInfo),
    });
  },
});
