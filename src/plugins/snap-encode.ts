import { definePlugin } from "../core/plugin/api.ts";
import { SnapEncodeInputSchema, SnapEncodeOutputSchema } from "../core/processor/stages/snap.ts";
import { emptySectorUpdateEncodeInto, fromWirePieceInfo, toWireBytes, UPDATE_PROOFS } from "../core/proofs/index.ts";

/** The wire integer of a RegisteredUpdateProof name (the input schema admits only known names). */
export function updateProofFromName(name: string): number {
  const p = UPDATE_PROOFS.find((u) => u.rustName === name);
  if (!p) throw new RangeError(`unknown RegisteredUpdateProof ${JSON.stringify(name)}`);
  return p.id;
}

/** snap_encode: encode the staged deal data into a sealed CC sector (the sector key) as a new replica. */
export default definePlugin({
  name: "builtin-snap-encode",
  stage: "snap_encode",
  description: "SnapDeals: encode deal data into a CC sector's replica (update/ and update-cache/)",
  input: SnapEncodeInputSchema,
  output: SnapEncodeOutputSchema,
  async run(task) {
    const out = await emptySectorUpdateEncodeInto({
      updateProof: updateProofFromName(task.registered_proof),
      newReplicaPath: task.new_replica_path,
      newCachePath: task.new_cache_path,
      sectorKeyPath: task.sector_path,
      sectorKeyCachePath: task.sector_cache_path,
      stagedDataPath: task.staged_data_path,
      pieces: task.piece_infos.map(fromWirePieceInfo),
    });
    return {
      comm_r_new: toWireBytes(out.commRNew),
      comm_r_last_new: toWireBytes(out.commRLastNew),
      comm_d_new: toWireBytes(out.commDNew),
    };
  },
});
