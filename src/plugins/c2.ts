import * as v from "valibot";
import { definePlugin } from "../core/plugin/api.ts";
import { C2InputSchema, C2OutputSchema } from "../core/processor/stages/seal.ts";
import { type C1Output, fromWireBytes, sealCommitPhase2 } from "../core/proofs/index.ts";

const C1Out = v.looseObject({ registered_proof: v.string() });

/** c2: the PoRep SNARK over c1's vanilla proofs. Needs the PoRep parameters of the sector size. */
export default definePlugin({
  name: "builtin-c2",
  stage: "c2",
  description: "Commit phase 2 (the PoRep SNARK)",
  input: C2InputSchema,
  output: C2OutputSchema,
  async run(task) {
    const c1 = v.parse(C1Out, task.c1out) as C1Output;
    const proof = await sealCommitPhase2({
      c1Output: c1,
      proverId: fromWireBytes(task.prover_id),
      sectorId: task.sector_id,
    });
    return { proof: Array.from(proof) };
  },
});
