import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import {
  sealProofFor,
  sealProofInfo,
  sectorSizeName,
  updateProofFor,
  windowPoStProofFor,
  winningPoStProofFor,
} from "../sector/proof.ts";
import { measureProofTwice, type ProofTiming } from "./bench-split.ts";
import { addonInfo } from "./config.ts";
import { peakRssBytes, type SealedSector, StageClock, sealSector, writeRandomPayload } from "./lifecycle.ts";
import { type LoadVerdict, LoadWatch } from "./machine-load.ts";
import { recordProofLogs, stopProofLogs } from "./phases.ts";
import {
  generateWindowPost,
  generateWinningPost,
  generateWinningPostSectorChallenge,
  verifyWindowPost,
  verifyWinningPost,
} from "./post.ts";
import { addPiece, clearCache, sealCommitPhase1, sealCommitPhase2, unsealRange, verifySeal } from "./seal.ts";
import { type C1Output, type PoStProof, type PrivateReplica, unpaddedSize } from "./types.ts";
import {
  emptySectorUpdateDecodeFrom,
  emptySectorUpdateEncodeInto,
  generateEmptySectorUpdatePartitionProofs,
  generateEmptySectorUpdateProofWithVanilla,
  verifyEmptySectorUpdatePartitionProofs,
  verifyEmptySectorUpdateProof,
} from "./update.ts";

/**
 * The raw-proofs baseline (scripts/bench-proofs): one whole lifecycle through the typed API, every
 * result verified, per-stage seconds and peak RSS. Orchestration overhead is later measured against
 * these numbers. Each proof (seal commit, WinningPoSt, WindowPoSt, snap prove) runs twice in the process
 * (the first pays for loading its parameters) and is split into vanilla proofs and SNARK by the library's
 * own logs (bench-split.ts, phases.ts); the machine's load is judged at start and end (machine-load.ts).
 */

/** Parts of the lifecycle that can be left out (`--skip`): an 8MiB snap prove takes about half an hour. */
export const SKIPPABLE = ["snap"] as const;
export type Skippable = (typeof SKIPPABLE)[number];

export interface BenchResult {
  sector_size: string;
  seal_verified: boolean;
  winning_post_verified: boolean;
  window_post_verified: boolean;
  /** Undefined when the snap update was skipped. */
  snap_verified?: boolean;
  unseal_matches: boolean;
  tampered_proof_rejected: boolean;
  stages_s: Record<string, number>;
  peak_rss_bytes: Record<string, number>;
  /** Each proof twice (first / second call in this process), split into vanilla and SNARK. */
  proofs: Record<string, ProofTiming>;
  skipped: Skippable[];
  total_s: number;
  machine: { cpus: number; cpu_model: string; addon_features: string[]; bun: string };
  load: LoadVerdict;
  /** False when the machine was busy: the figures are not the proofs' cost. */
  publishable: boolean;
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}

export async function runProofsBenchmark(
  sectorSize: number,
  workDir: string,
  log: (line: string) => void = () => {},
  skip: readonly Skippable[] = [],
): Promise<BenchResult> {
  const watch = new LoadWatch();
  recordProofLogs("info");
  try {
    return await lifecycle(sectorSize, workDir, log, skip, watch);
  } finally {
    stopProofLogs();
    watch.finish(); // stops its sampling timer when the lifecycle threw
  }
}

async function lifecycle(
  sectorSize: number,
  workDir: string,
  log: (line: string) => void,
  skip: readonly Skippable[],
  watch: LoadWatch,
): Promise<BenchResult> {
  const t0 = performance.now();
  const proofs: Record<string, ProofTiming> = {};
  const registeredProof = sealProofFor(sectorSize, "V1_1");
  const clock = new StageClock();
  const proverId = 1000;
  const ticket = new Uint8Array(32).fill(7);
  const seed = new Uint8Array(32).fill(9);
  const unpadded = unpaddedSize(sectorSize);
  const stage = (name: string) => log(`  ${name}`);

  // 1. A sector holding a data piece (half the sector) + pledge: seal, C2, verify.
  stage("seal: data sector (add_piece, tree_d, pc1, pc2), then C1 + C2 twice, each verified");
  const payloadPath = join(workDir, "payload.bin");
  const half = unpadded / 2;
  const payload = writeRandomPayload(payloadPath, half);
  const data = await sealSector({
    registeredProof,
    dir: join(workDir, "data"),
    sectorId: 1,
    proverId,
    ticket,
    seed,
    dataPieces: [{ path: payloadPath, pieceSize: half }],
    treeD: true,
    commit: false,
    clearCache: false,
    clock,
  });
  const commitBase = { registeredProof, proverId: data.proverId, sectorId: data.sectorId, ticket, seed };
  proofs.seal_commit = await measureProofTwice("seal_commit_phase2", {
    vanillaCall: "seal_commit_phase1",
    vanilla: () =>
      clock.time("c1", () =>
        sealCommitPhase1({
          ...commitBase,
          cachePath: data.cacheDir,
          replicaPath: data.sealedPath,
          commR: data.commR,
          commD: data.commD,
          pieces: data.pieces,
        }),
      ),
    snark: (c1) =>
      clock.time("c2", () =>
        sealCommitPhase2({ c1Output: c1 as C1Output, proverId: data.proverId, sectorId: data.sectorId }),
      ),
    verify: async (proof) => {
      data.proof = proof as Uint8Array;
      return clock.time("verify_seal", () =>
        verifySeal({ ...commitBase, commR: data.commR, commD: data.commD, proof: data.proof! }),
      );
    },
  });
  await clock.time("clear_cache", () => clearCache(data.cacheDir));
  const sealVerified = proofs.seal_commit.first.verified && proofs.seal_commit.second.verified;

  stage("tampered proofs");
  const bad = new Uint8Array(data.proof!);
  bad[10]! ^= 0x01;
  const flipped = await clock.time("verify_tampered", () => verifySeal({ ...data, proof: bad }).catch(() => false));
  const wrongSeed = await verifySeal({ ...data, seed: ticket, proof: data.proof! }).catch(() => false);
  const tamperedRejected = flipped === false && wrongSeed === false;

  // 2. A CC sector (the snap target), sealed without C2.
  stage("seal: CC sector (pc1, pc2)");
  const cc = await sealSector({
    registeredProof,
    dir: join(workDir, "cc"),
    sectorId: 2,
    proverId,
    ticket,
    seed,
    commit: false,
    clock,
    stagePrefix: "cc_",
  });

  const replica = (s: typeof cc): PrivateReplica => ({
    sectorId: s.sectorId,
    commR: s.commR,
    cacheDir: s.cacheDir,
    sealedPath: s.sealedPath,
  });
  const randomness = new Uint8Array(32).fill(3);

  stage("WinningPoSt twice, each verified");
  const winningProof = winningPoStProofFor(registeredProof);
  const sectors = [data, cc];
  const idx = await generateWinningPostSectorChallenge({
    postProof: winningProof,
    randomness,
    proverId,
    sectorSetLen: sectors.length,
  });
  const chosen = sectors[idx[0]!]!;
  proofs.winning_post = await measureProofTwice("generate_winning_post", {
    snark: () =>
      clock.time("winning_post", () =>
        generateWinningPost({ postProof: winningProof, randomness, proverId, replicas: [replica(chosen)] }),
      ),
    verify: (wp) =>
      clock.time("winning_post_verify", () =>
        verifyWinningPost({
          postProof: winningProof,
          randomness,
          proverId,
          proof: (wp as PoStProof[])[0]!.proof,
          replicas: [{ sectorId: chosen.sectorId, commR: chosen.commR }],
        }),
      ),
  });
  const winningVerified = proofs.winning_post.first.verified && proofs.winning_post.second.verified;

  stage("WindowPoSt twice, each verified");
  const windowProof = windowPoStProofFor(registeredProof);
  proofs.window_post = await measureProofTwice("generate_window_post", {
    snark: () =>
      clock.time("window_post", () =>
        generateWindowPost({ postProof: windowProof, randomness, proverId, replicas: sectors.map(replica) }),
      ),
    verify: async (out) => {
      const win = out as Awaited<ReturnType<typeof generateWindowPost>>;
      return (
        win.faults.length === 0 &&
        (await clock.time("window_post_verify", () =>
          verifyWindowPost({
            randomness,
            proverId,
            proofs: win.proofs,
            replicas: sectors.map((s) => ({ sectorId: s.sectorId, commR: s.commR })),
          }),
        ))
      );
    },
  });
  const windowVerified = proofs.window_post.first.verified && proofs.window_post.second.verified;

  const snapVerified = skip.includes("snap")
    ? undefined
    : await snapUpdate(workDir, cc, registeredProof, clock, proofs, stage);

  stage("unseal");
  const unsealed = join(workDir, "unsealed");
  const n = await clock.time("unseal", () =>
    unsealRange({
      ...data,
      cachePath: data.cacheDir,
      sealedPath: data.sealedPath,
      outputPath: unsealed,
      offset: 0,
      numBytes: half,
    }),
  );
  const unsealMatches = n === half && same(new Uint8Array(readFileSync(unsealed)), payload);

  const info = addonInfo();
  const load = watch.finish();
  return {
    sector_size: sectorSizeName(sectorSize),
    seal_verified: sealVerified,
    winning_post_verified: winningVerified,
    window_post_verified: windowVerified,
    snap_verified: snapVerified,
    unseal_matches: unsealMatches,
    tampered_proof_rejected: tamperedRejected,
    stages_s: Object.fromEntries(Object.entries(clock.seconds).map(([k, v]) => [k, Math.round(v * 1000) / 1000])),
    peak_rss_bytes: { ...clock.peakRssBytes, process: peakRssBytes() ?? 0 },
    proofs,
    skipped: [...skip],
    total_s: Math.round((performance.now() - t0) / 10) / 100,
    machine: {
      cpus: cpus().length,
      cpu_model: cpus()[0]?.model ?? "unknown",
      addon_features: info.features,
      bun: Bun.version,
    },
    load,
    publishable: !load.busy,
  };
}

/** Snap update of the CC sector: encode, vanilla + SNARK twice (each verified), decode; true when all held. */
async function snapUpdate(
  workDir: string,
  cc: SealedSector,
  registeredProof: number,
  clock: StageClock,
  proofs: Record<string, ProofTiming>,
  stage: (name: string) => void,
): Promise<boolean> {
  const unpadded = unpaddedSize(sealProofInfo(registeredProof).sectorSize);
  stage("snap: encode, then vanilla proofs + SNARK twice (each verified), decode");
  const updateProof = updateProofFor(registeredProof);
  const snapDir = join(workDir, "snap");
  mkdirSync(snapDir, { recursive: true });
  const snapPayload = join(snapDir, "payload.bin");
  writeRandomPayload(snapPayload, unpadded);
  const staged = join(snapDir, "staged");
  writeFileSync(staged, new Uint8Array(0));
  const { piece } = await clock.time("snap_add_piece", () =>
    addPiece({ registeredProof, source: { path: snapPayload }, stagedPath: staged, pieceSize: unpadded }),
  );
  const newReplicaPath = join(snapDir, "update");
  const newCachePath = join(snapDir, "update-cache");
  const enc = await clock.time("snap_encode", () =>
    emptySectorUpdateEncodeInto({
      updateProof,
      newReplicaPath,
      newCachePath,
      sectorKeyPath: cc.sealedPath,
      sectorKeyCachePath: cc.cacheDir,
      stagedDataPath: staged,
      pieces: [piece],
    }),
  );
  const comms = { updateProof, commROld: cc.commR, commRNew: enc.commRNew, commDNew: enc.commDNew };
  const paths = {
    sectorKeyPath: cc.sealedPath,
    sectorKeyCachePath: cc.cacheDir,
    replicaPath: newReplicaPath,
    replicaCachePath: newCachePath,
  };
  let vanillaOk = true;
  proofs.snap_prove = await measureProofTwice("generate_empty_sector_update_proof_with_vanilla", {
    vanillaCall: "generate_partition_proofs",
    vanilla: () => clock.time("snap_vanilla", () => generateEmptySectorUpdatePartitionProofs({ ...comms, ...paths })),
    snark: async (vanilla) => {
      const partitionProofs = vanilla as Uint8Array[];
      vanillaOk &&= await verifyEmptySectorUpdatePartitionProofs({ ...comms, partitionProofs });
      return clock.time("snap_prove", () =>
        generateEmptySectorUpdateProofWithVanilla({ ...comms, vanillaProofs: partitionProofs }),
      );
    },
    verify: (proof) =>
      clock.time("snap_verify", () => verifyEmptySectorUpdateProof({ ...comms, proof: proof as Uint8Array })),
  });
  const snapOk = proofs.snap_prove.first.verified && proofs.snap_prove.second.verified;
  const decoded = join(snapDir, "decoded");
  await clock.time("snap_decode", () =>
    emptySectorUpdateDecodeFrom({
      updateProof,
      outDataPath: decoded,
      replicaPath: newReplicaPath,
      sectorKeyPath: cc.sealedPath,
      sectorKeyCachePath: cc.cacheDir,
      commDNew: enc.commDNew,
    }),
  );
  const decodeOk = same(new Uint8Array(readFileSync(decoded)), new Uint8Array(readFileSync(staged)));
  return vanillaOk && snapOk && decodeOk;
}

export const BOOLEANS = [
  "seal_verified",
  "winning_post_verified",
  "window_post_verified",
  "snap_verified",
  "unseal_matches",
  "tampered_proof_rejected",
] as const;
