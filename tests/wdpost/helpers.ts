import { createHash } from "node:crypto";
import { sealProofFor, windowPoStProofFor } from "../../src/core/sector/proof.ts";
import type { PoStReplica, WindowPoStTask } from "../../src/manager/prover.ts";

/** abi.RegisteredPoStProof StackedDrgWindow2KiBV1_1 (id 10), the devnet's 2KiB window proof. */
export const WINDOW_2KIB = windowPoStProofFor(sealProofFor(2048));

export function bytes32(label: string): Uint8Array {
  return new Uint8Array(createHash("sha256").update(label).digest());
}

export function replica(sectorId: number, store = "persist-1"): PoStReplica {
  return {
    sectorId,
    commR: bytes32(`commR ${sectorId}`),
    upgrade: false,
    accesses: { sealedFile: store, cacheDir: store },
    sealedPath: `/nonexistent/sealed/s-t01000-${sectorId}`,
    cacheDir: `/nonexistent/cache/s-t01000-${sectorId}`,
  };
}

/** A task with fake commitments: enough for the job store, not for a real proof. */
export function fakeTask(over: Partial<WindowPoStTask> = {}): WindowPoStTask {
  return {
    minerId: 1000,
    proofType: WINDOW_2KIB,
    deadline: 1,
    partitions: [0],
    replicas: [replica(1), replica(2)],
    seed: bytes32("seed"),
    ...over,
  };
}
