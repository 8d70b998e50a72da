import { mkdirSync } from "node:fs";
import * as v from "valibot";
import { definePlugin } from "../core/plugin/api.ts";
import { TreeDInputSchema } from "../core/processor/stages/seal.ts";
import { generateTreeD, sealProofFromName } from "../core/proofs/index.ts";

/** tree_d: builds sc-02-data-tree-d.dat over the staged file in the sector's cache directory. */
export default definePlugin({
  name: "builtin-tree-d",
  stage: "tree_d",
  description: "build the data tree (tree-d) of the staged sector",
  input: TreeDInputSchema,
  output: v.boolean(),
  async run(task) {
    mkdirSync(task.cache_dir, { recursive: true });
    await generateTreeD({
      registeredProof: sealProofFromName(task.registered_proof),
      stagedPath: task.staged_file,
      cacheDir: task.cache_dir,
    });
    return true;
  },
});
