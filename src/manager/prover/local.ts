import type { PoStProof } from "../../core/proofs/index.ts";
import { generateWindowPost, generateWinningPost, type PrivateReplica } from "../../core/proofs/index.ts";
import { abortable } from "../../core/sync/abortable.ts";
import type {
  PoStReplica,
  WindowPoStOutput,
  WindowPoStProver,
  WindowPoStTask,
  WinningPoStProver,
  WinningPoStTask,
} from "../prover.ts";

/**
 * The default prover: PoSt in this process, over the replicas' paths on this machine. The proofs API runs
 * each proof off the JS thread, so the manager keeps serving RPC while a proof runs.
 */
export class LocalProver implements WindowPoStProver, WinningPoStProver {
  readonly name = "local";

  /** Proofs over the replicas the library can read; the others are reported in `faults`, not thrown. */
  async generateWindowPoSt(task: WindowPoStTask, signal?: AbortSignal): Promise<WindowPoStOutput> {
    if (task.replicas.length === 0)
      throw new Error(`WindowPoSt of miner ${task.minerId} deadline ${task.deadline}: no sectors to prove`);
    const r = await abortable(
      generateWindowPost({
        postProof: task.proofType,
        randomness: task.seed,
        proverId: task.minerId,
        replicas: task.replicas.map(privateReplica),
      }),
      signal,
    );
    return { proofs: r.proofs, faults: r.faults };
  }

  async generateWinningPoSt(task: WinningPoStTask, signal?: AbortSignal): Promise<PoStProof[]> {
    if (task.replicas.length === 0)
      throw new Error(`WinningPoSt of miner ${task.minerId}: no challenged sectors to prove`);
    return abortable(
      generateWinningPost({
        postProof: task.proofType,
        randomness: task.seed,
        proverId: task.minerId,
        replicas: task.replicas.map(privateReplica),
      }),
      signal,
    );
  }
}

/** The files as this machine sees them (a snap-upgraded sector's paths already name its update replica). */
export function privateReplica(r: PoStReplica): PrivateReplica {
  return { sectorId: r.sectorId, commR: r.commR, cacheDir: r.cacheDir, sealedPath: r.sealedPath };
}
