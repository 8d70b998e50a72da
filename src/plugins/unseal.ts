import { definePlugin } from "../core/plugin/api.ts";
import { UnsealInputSchema, UnsealOutputSchema } from "../core/processor/stages/unseal.ts";
import { fromWireBytes, sealProofFromName, unsealRange } from "../core/proofs/index.ts";

/** unseal: decode a range of a sealed replica back into the sector's original (unpadded) data. */
export default definePlugin({
  name: "builtin-unseal",
  stage: "unseal",
  description: "unseal a range of a sealed sector (regenerates the SDR labels, then decodes)",
  input: UnsealInputSchema,
  output: UnsealOutputSchema,
  async run(task) {
    return unsealRange({
      registeredProof: sealProofFromName(task.registered_proof),
      cachePath: task.cache_dir,
      sealedPath: task.sealed_file,
      outputPath: task.unsealed_output,
      proverId: fromWireBytes(task.prover_id),
      sectorId: task.sector_id,
      commD: fromWireBytes(task.comm_d),
      ticket: fromWireBytes(task.ticket),
      offset: task.offset,
      numBytes: task.num_bytes,
    });
  },
});
