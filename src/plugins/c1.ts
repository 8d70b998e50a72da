import * as v from "valibot";
import { definePlugin } from "../core/plugin/api.ts";
import { C1InputSchema } from "../core/processor/stages/seal.ts";
import { fromWireBytes, fromWirePieceInfo, fromWirePreCommitOutput, sealCommitPhase1 } from "../core/proofs/index.ts";

/** c1: vanilla proofs for the seed's challenges; the output (SealCommitPhase1Output JSON) feeds c2. */
export default definePlugin({
  name: "builtin-c1",
  stage: "c1",
  description: "Commit phase 1 (vanilla proofs for the interactive challenges)",
  input: C1InputSchema,
  output: v.looseObject({ registered_proof: v.string() }),
  async run(task) {
    const pc2 = fromWirePreCommitOutput(task.pc2out);
    return sealCommitPhase1({
      registeredProof: pc2.registeredProof,
      cachePath: task.cache_path,
      replicaPath: task.replica_path,
      proverId: fromWireBytes(task.prover_id),
      sectorId: task.sector_id,
      ticket: fromWireBytes(task.ticket),
      seed: fromWireBytes(task.seed),
      commR: pc2.commR,
      commD: pc2.commD,
      pieces: task.piece_infos.map(fromWirePieceInfo),
    });
  },
});
