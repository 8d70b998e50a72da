import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  parseSectorSize,
  sealProofFor,
  sectorSizeName,
  updateProofFor,
  windowPoStProofFor,
  winningPoStProofFor,
} from "../sector/proof.ts";
import { addonInfo, ensureProofsConfigured } from "./config.ts";
import { peakRssBytes, StageClock, sealSector, writeRandomPayload } from "./lifecycle.ts";
import { inspectParams } from "./params.ts";
import {
  generateWindowPost,
  generateWinningPost,
  generateWinningPostSectorChallenge,
  verifyWindowPost,
  verifyWinningPost,
} from "./post.ts";
import { addPiece, unsealRange, verifySeal } from "./seal.ts";
import { type PrivateReplica, unpaddedSize } from "./types.ts";
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
 * these numbers.
 */

export interface BenchResult {
  sector_size: string;
  seal_verified: boolean;
  winning_post_verified: boolean;
  window_post_verified: boolean;
  snap_verified: boolean;
  unseal_matches: boolean;
  tampered_proof_rejected: boolean;
  stages_s: Record<string, number>;
  peak_rss_bytes: Record<string, number>;
  total_s: number;
  machine: { cpus: number; cpu_model: string; addon_features: string[]; bun: string };
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}

export async function runProofsBenchmark(
  sectorSize: number,
  workDir: string,
  log: (line: string) => void = () => {},
): Promise<BenchResult> {
  const t0 = performance.now();
  const registeredProof = sealProofFor(sectorSize, "V1_1");
  const clock = new StageClock();
  const proverId = 1000;
  const ticket = new Uint8Array(32).fill(7);
  const seed = new Uint8Array(32).fill(9);
  const unpadded = unpaddedSize(sectorSize);
  const stage = (name: string) => log(`  ${name}`);

  // 1. A sector holding a data piece (half the sector) + pledge: seal, C2, verify.
  stage("seal: data sector (add_piece, tree_d, pc1, pc2, c1, c2, verify_seal, clear_cache)");
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
    clock,
  });
  const sealVerified = data.verified === true;

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

  stage("WinningPoSt");
  const winningProof = winningPoStProofFor(registeredProof);
  const sectors = [data, cc];
  const idx = await generateWinningPostSectorChallenge({
    postProof: winningProof,
    randomness,
    proverId,
    sectorSetLen: sectors.length,
  });
  const chosen = sectors[idx[0]!]!;
  const wp = await clock.time("winning_post", () =>
    generateWinningPost({ postProof: winningProof, randomness, proverId, replicas: [replica(chosen)] }),
  );
  const winningVerified = await clock.time("winning_post_verify", () =>
    verifyWinningPost({
      postProof: winningProof,
      randomness,
      proverId,
      proof: wp[0]!.proof,
      replicas: [{ sectorId: chosen.sectorId, commR: chosen.commR }],
    }),
  );

  stage("WindowPoSt");
  const windowProof = windowPoStProofFor(registeredProof);
  const win = await clock.time("window_post", () =>
    generateWindowPost({ postProof: windowProof, randomness, proverId, replicas: sectors.map(replica) }),
  );
  const windowVerified =
    win.faults.length === 0 &&
    (await clock.time("window_post_verify", () =>
      verifyWindowPost({
        randomness,
        proverId,
        proofs: win.proofs,
        replicas: sectors.map((s) => ({ sectorId: s.sectorId, commR: s.commR })),
      }),
    ));

  stage("snap: encode, vanilla proofs, SNARK, verify, decode");
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
  const vanilla = await clock.time("snap_vanilla", () =>
    generateEmptySectorUpdatePartitionProofs({ ...comms, ...paths }),
  );
  const vanillaOk = await verifyEmptySectorUpdatePartitionProofs({ ...comms, partitionProofs: vanilla });
  const snapProof = await clock.time("snap_prove", () =>
    generateEmptySectorUpdateProofWithVanilla({ ...comms, vanillaProofs: vanilla }),
  );
  const snapOk = await clock.time("snap_verify", () => verifyEmptySectorUpdateProof({ ...comms, proof: snapProof }));
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
  const snapVerified = vanillaOk && snapOk && decodeOk;

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
    total_s: Math.round((performance.now() - t0) / 10) / 100,
    machine: {
      cpus: cpus().length,
      cpu_model: cpus()[0]?.model ?? "unknown",
      addon_features: info.features,
      bun: Bun.version,
    },
  };
}

const BOOLEANS = [
  "seal_verified",
  "winning_post_verified",
  "window_post_verified",
  "snap_verified",
  "unseal_matches",
  "tampered_proof_rejected",
] as const;

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      "sector-size": { type: "string", default: "2KiB" },
      json: { type: "string" },
      dir: { type: "string" },
      keep: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      "usage: scripts/bench-proofs [--sector-size 2KiB|8MiB] [--json FILE] [--dir WORKDIR] [--keep]\n" +
        "Runs seal (data + CC sector), C2 + verify, tampered-proof check, WinningPoSt, WindowPoSt, snap update and unseal once,\n" +
        "verifying everything; prints per-stage seconds and peak RSS. Needs the sector size's parameters\n" +
        "(damocles util params generate --sector-size SIZE).\n",
    );
    return 0;
  }
  const size = parseSectorSize(values["sector-size"] ?? "2KiB");
  if (size > 512 << 20) throw new Error("bench-proofs supports 2KiB, 8MiB and 512MiB");
  const settings = ensureProofsConfigured();
  const params = await inspectParams(size, {
    dir: settings.parameterCache,
    circuits: ["porep", "winning-post", "window-post", "empty-sector-update"],
  });
  if (!params.usable) {
    process.stderr.write(
      `parameters for ${sectorSizeName(size)} are not usable in ${params.dir}. Fix: ${params.fix}\n`,
    );
    return 2;
  }
  const workDir = values.dir
    ? resolve(values.dir)
    : mkdtempSync(join(tmpdir(), `damocles-bench-${sectorSizeName(size)}-`));
  mkdirSync(workDir, { recursive: true });
  process.stderr.write(`bench-proofs ${sectorSizeName(size)} in ${workDir} (params: ${settings.parameterCache})\n`);
  let result: BenchResult;
  try {
    result = await runProofsBenchmark(size, workDir, (l) => process.stderr.write(`${l}\n`));
  } finally {
    if (!values.keep && !values.dir) rmSync(workDir, { recursive: true, force: true });
  }
  const mib = (b: number | undefined) => (b === undefined ? "-" : `${(b / 2 ** 20).toFixed(0)} MiB`);
  const width = Math.max(...Object.keys(result.stages_s).map((k) => k.length));
  process.stdout.write(
    `\n${result.sector_size} lifecycle (${result.machine.cpus} CPUs, ${result.machine.cpu_model})\n`,
  );
  process.stdout.write(`${"stage".padEnd(width)}  seconds  peak RSS\n`);
  for (const [k, v] of Object.entries(result.stages_s)) {
    process.stdout.write(
      `${k.padEnd(width)}  ${v.toFixed(3).padStart(7)}  ${mib(result.peak_rss_bytes[k]).padStart(8)}\n`,
    );
  }
  process.stdout.write(
    `${"total".padEnd(width)}  ${result.total_s.toFixed(2).padStart(7)}  ${mib(result.peak_rss_bytes.process).padStart(8)}\n\n`,
  );
  for (const k of BOOLEANS) process.stdout.write(`${k}: ${result[k]}\n`);
  if (values.json) writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
  return BOOLEANS.every((k) => result[k]) ? 0 : 1;
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`bench-proofs: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
