import { createHash } from "node:crypto";
import { cpSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { type ConsolaInstance, createConsola } from "consola";
import {
  generateWinningPostSectorChallenge,
  type PoStProof,
  verifyWindowPost,
  verifyWinningPost,
} from "../../src/core/proofs/index.ts";
import { sectorName } from "../../src/core/sector/index.ts";
import { windowPoStProofFor, winningPoStProofFor } from "../../src/core/sector/proof.ts";
import type { PoStReplica, WindowPoStTask, WinningPoStTask } from "../../src/manager/prover.ts";
import type { PoStFixtureSector } from "../fixtures/post-sectors.ts";

/** Shared by the prover tests: tasks over the PoSt fixture's sectors and their verification. */

export function seedOf(label: string): Uint8Array {
  return new Uint8Array(createHash("sha256").update(`damocles prover test ${label}`).digest());
}

export function replicaOf(s: PoStFixtureSector): PoStReplica {
  const name = sectorName({ Miner: s.actor, Number: s.sectorId });
  return {
    sectorId: s.sectorId,
    commR: s.commR,
    upgrade: false,
    accesses: { sealedFile: `store/sealed/${name}`, cacheDir: `store/cache/${name}` },
    sealedPath: s.sealedPath,
    cacheDir: s.cacheDir,
  };
}

export function windowTask(sectors: readonly PoStFixtureSector[], seed: Uint8Array): WindowPoStTask {
  return {
    minerId: sectors[0]!.actor,
    proofType: windowPoStProofFor(sectors[0]!.sealProof),
    deadline: 0,
    partitions: [0],
    replicas: sectors.map(replicaOf),
    seed,
  };
}

export function verifyWindow(
  sectors: readonly PoStFixtureSector[],
  seed: Uint8Array,
  proofs: readonly PoStProof[],
): Promise<boolean> {
  return verifyWindowPost({
    randomness: seed,
    proverId: sectors[0]!.actor,
    proofs,
    replicas: sectors.map((s) => ({ sectorId: s.sectorId, commR: s.commR })),
  });
}

/** The WinningPoSt task a miner would build: the challenged sectors out of `sectors`. */
export async function winningTask(sectors: readonly PoStFixtureSector[], seed: Uint8Array): Promise<WinningPoStTask> {
  const postProof = winningPoStProofFor(sectors[0]!.sealProof);
  const picked = await generateWinningPostSectorChallenge({
    postProof,
    randomness: seed,
    proverId: sectors[0]!.actor,
    sectorSetLen: sectors.length,
  });
  return {
    minerId: sectors[0]!.actor,
    proofType: postProof,
    replicas: picked.map((i) => replicaOf(sectors[i]!)),
    seed,
  };
}

export function verifyWinning(task: WinningPoStTask, proof: PoStProof): Promise<boolean> {
  return verifyWinningPost({
    postProof: task.proofType,
    randomness: task.seed,
    proverId: task.minerId,
    proof: proof.proof,
    replicas: task.replicas.map((r) => ({ sectorId: r.sectorId, commR: r.commR })),
  });
}

/** Copies sectors (sealed file and cache) under `dir`, so a test can break them without touching the fixture. */
export function copySectors(sectors: readonly PoStFixtureSector[], dir: string): PoStFixtureSector[] {
  return sectors.map((s) => {
    const name = sectorName({ Miner: s.actor, Number: s.sectorId });
    const sealedPath = join(dir, "sealed", name);
    const cacheDir = join(dir, "cache", name);
    mkdirSync(join(dir, "sealed"), { recursive: true });
    cpSync(s.sealedPath, sealedPath);
    cpSync(s.cacheDir, cacheDir, { recursive: true });
    return { ...s, sealedPath, cacheDir };
  });
}

/** A logger that keeps its messages (and still says nothing on the console). */
export function capturingLogger(): {
  log: ConsolaInstance;
  lines: string[];
  waitFor(pattern: RegExp): Promise<string>;
} {
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  const log = createConsola({
    level: 4,
    reporters: [
      {
        log(obj) {
          const line = obj.args.map(String).join(" ");
          lines.push(line);
          for (const w of waiters.filter((w) => w.pattern.test(line))) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(line);
          }
        },
      },
    ],
  });
  const waitFor = (pattern: RegExp) => {
    const seen = lines.find((l) => pattern.test(l));
    return seen !== undefined
      ? Promise.resolve(seen)
      : new Promise<string>((resolve) => waiters.push({ pattern, resolve }));
  };
  return { log, lines, waitFor };
}
