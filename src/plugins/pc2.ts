import * as v from "valibot";
import { definePlugin } from "../core/plugin/api.ts";
import { PC2InputSchema, PC2OutputSchema } from "../core/processor/stages/seal.ts";
import { type Pc1Output, sealPreCommitPhase2, toWirePreCommitOutput } from "../core/proofs/index.ts";

const Pc1Out = v.looseObject({ registered_proof: v.string() });

/** pc2: tree-c and tree-r-last; encodes the sealed file in place and yields CommR/CommD. */
export default definePlugin({
  name: "builtin-pc2",
  stage: "pc2",
  description: "PreCommit phase 2 (column and replica trees, CommR)",
  input: PC2InputSchema,
  output: PC2OutputSchema,
  async run(task) {
    const pc1 = v.parse(Pc1Out, task.pc1out) as Pc1Output;
    const out = await sealPreCommitPhase2({ pc1Output: pc1, cachePath: task.cache_dir, outPath: task.sealed_file });
    return toWirePreCommitOutput(out);
  },
});
