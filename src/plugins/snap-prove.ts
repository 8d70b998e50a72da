import { definePlugin } from "../core/plugin/api.ts";
import { SnapProveInputSchema, SnapProveOutputSchema } from "../core/processor/stages/snap.ts";
import { fromWireBytes, generateEmptySectorUpdateProofWithVanilla, toWireBytes } from "../core/proofs/index.ts";
import { updateProofFromName } from "./snap-encode.ts";

/** snap_prove: the replica-update SNARK over vanilla partition proofs. Needs the empty-sector-update parameters. */
export default definePlugin({
  name: "builtin-snap-prove",
  stage: "snap_prove",
  description: "SnapDeals: the replica update SNARK from vanilla partition proofs",
  input: SnapProveInputSchema,
  output: SnapProveOutputSchema,
  async run(task) {
    const proof = await generateEmptySectorUpdateProofWithVanilla({
      updateProof: updateProofFromName(task.registered_proof),
      vanillaProofs: task.vannilla_proofs.map(fromWireBytes),
      commROld: fromWireBytes(task.comm_r_old),
      commRNew: fromWireBytes(task.comm_r_new),
      commDNew: fromWireBytes(task.comm_d_new),
    });
    return toWireBytes(proof);
  },
});
