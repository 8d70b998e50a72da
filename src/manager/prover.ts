/**
 * Where PoSt proofs are computed. The poster (WindowPoSt) and the miner (WinningPoSt) decide *what* to prove;
 * a prover only computes. Three implementations: in-process (prover/local.ts, the default), ext-prover
 * (prover/ext-prover.ts: processor children from ext-prover.cfg) and worker-prover (wdpost/prover.ts: jobs
 * handed to workers with plan = "wdpost").
 */

import type { PoStProof } from "../core/proofs/index.ts";

/** One sector to prove, with its files both as persist-store names and as paths on this manager. */
export interface PoStReplica {
  sectorId: number;
  /** 32 bytes. */
  commR: Uint8Array;
  /** Snap-upgraded sector (its files are the update replica). */
  upgrade: boolean;
  /** Persist store instance names (what a worker resolves against its [[attached]] stores). */
  accesses: { sealedFile: string; cacheDir: string };
  /** Paths on this manager's machine (from the persist stores' Path). */
  sealedPath: string;
  cacheDir: string;
}

export interface WindowPoStTask {
  minerId: number;
  /** abi.RegisteredPoStProof (window). */
  proofType: number;
  /** The deadline and partitions this proof is for (shown to operators; part of a worker job). */
  deadline: number;
  partitions: number[];
  /** Sorted by sectorId. */
  replicas: PoStReplica[];
  /** 32 bytes of chain randomness. */
  seed: Uint8Array;
}

export interface WindowPoStOutput {
  /** Proofs over the replicas minus `faults`. */
  proofs: PoStProof[];
  /** Sectors the prover could not read/prove; the poster skips them and proves again without them. */
  faults: number[];
}

export interface WinningPoStTask {
  minerId: number;
  /** abi.RegisteredPoStProof (winning). */
  proofType: number;
  replicas: PoStReplica[];
  seed: Uint8Array;
}

export interface WindowPoStProver {
  readonly name: string;
  /** Rejects with an Error whose message says why the proof could not be made. */
  generateWindowPoSt(task: WindowPoStTask, signal?: AbortSignal): Promise<WindowPoStOutput>;
  close?(): Promise<void>;
}

export interface WinningPoStProver {
  readonly name: string;
  generateWinningPoSt(task: WinningPoStTask, signal?: AbortSignal): Promise<PoStProof[]>;
  close?(): Promise<void>;
}
