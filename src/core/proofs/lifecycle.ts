import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sealProofInfo } from "../sector/proof.ts";
import {
  addPiece,
  clearCache,
  generateTreeD,
  sealCommitPhase1,
  sealCommitPhase2,
  sealPreCommitPhase1,
  sealPreCommitPhase2,
  verifySeal,
} from "./seal.ts";
import {
  type Bytes32,
  type C1Output,
  checkBytes32,
  type PieceInfo,
  type ProverIdInput,
  paddedSize,
  proverIdBytes,
  unpaddedSize,
} from "./types.ts";

/**
 * A reference sealing run through the typed API: stage files, seal, prove, verify. Shared by the
 * proof tests (tests/fixtures/sealed-2kib.ts) and the raw-proofs benchmark (scripts/bench-proofs),
 * so both exercise exactly what the stage plugins call.
 */

/** Stage timer with optional per-stage peak RSS (Linux: VmHWM, reset before each stage). */
export class StageClock {
  readonly seconds: Record<string, number> = {};
  readonly peakRssBytes: Record<string, number> = {};

  async time<T>(stage: string, work: () => Promise<T>): Promise<T> {
    resetPeakRss();
    const t0 = performance.now();
    try {
      return await work();
    } finally {
      this.seconds[stage] = (this.seconds[stage] ?? 0) + (performance.now() - t0) / 1000;
      const peak = peakRssBytes();
      if (peak !== undefined) this.peakRssBytes[stage] = Math.max(this.peakRssBytes[stage] ?? 0, peak);
    }
  }
}

function resetPeakRss(): void {
  try {
    writeFileSync("/proc/self/clear_refs", "5");
  } catch {
    // not Linux, or not permitted: peaks then accumulate over the process
  }
}

/** Peak resident set size of this process so far (since the last reset), in bytes. */
export function peakRssBytes(): number | undefined {
  try {
    const m = readFileSync("/proc/self/status", "utf8").match(/VmHWM:\s+(\d+)\s+kB/);
    if (m) return Number(m[1]) * 1024;
  } catch {
    // fall through
  }
  const maxRss = process.resourceUsage?.().maxRSS;
  return maxRss ? maxRss * 1024 : undefined;
}

export interface DataPieceSpec {
  /** File holding the payload; it is zero-filled up to the piece size. */
  path: string;
  /** Unpadded piece size (127 × 2^n). */
  pieceSize: number;
}

export interface SealSectorOptions {
  registeredProof: number;
  /** Working directory: staged, sealed and cache paths are created inside it. */
  dir: string;
  sectorId: number;
  proverId: ProverIdInput;
  ticket: Bytes32;
  seed: Bytes32;
  /** Deal pieces in order; the rest of the sector is filled with pledge pieces. None: a CC sector. */
  dataPieces?: readonly DataPieceSpec[];
  /** Also build tree-d in a separate stage before PC1 (as the tree_d stage does). Default false. */
  treeD?: boolean;
  /** Run C1 + C2 + verify_seal. Default true. */
  commit?: boolean;
  /** clear_cache after sealing (keeps what PoSt/snap need). Default true. */
  clearCache?: boolean;
  clock?: StageClock;
  /** Prefix for stage names in the clock ("cc_" → "cc_pc1"). */
  stagePrefix?: string;
}

export interface SealedSector {
  registeredProof: number;
  sectorSize: number;
  sectorId: number;
  proverId: Bytes32;
  ticket: Bytes32;
  seed: Bytes32;
  stagedPath: string;
  sealedPath: string;
  cacheDir: string;
  pieces: PieceInfo[];
  commD: Bytes32;
  commR: Bytes32;
  /** Present when `commit` ran. */
  c1Output?: C1Output;
  proof?: Uint8Array;
  verified?: boolean;
}

/** Pledge piece sizes (unpadded) that fill `remainingPadded` bytes, smallest first (keeps alignment). */
export function pledgeFill(remainingPadded: number): number[] {
  const out: number[] = [];
  for (let bit = 128; bit <= remainingPadded; bit *= 2) {
    if (Math.floor(remainingPadded / bit) % 2 === 1) out.push(unpaddedSize(bit));
  }
  return out;
}

/** Seals one sector end to end (add pieces → [tree_d] → PC1 → PC2 → [C1 → C2 → verify] → [clear cache]). */
export async function sealSector(opts: SealSectorOptions): Promise<SealedSector> {
  const clock = opts.clock ?? new StageClock();
  const p = opts.stagePrefix ?? "";
  const sectorSize = sealProofInfo(opts.registeredProof).sectorSize;
  const proverId = proverIdBytes(opts.proverId);
  const ticket = checkBytes32("ticket", opts.ticket);
  const seed = checkBytes32("seed", opts.seed);
  mkdirSync(opts.dir, { recursive: true });
  const stagedPath = join(opts.dir, "staged");
  const sealedPath = join(opts.dir, "sealed");
  const cacheDir = join(opts.dir, "cache");
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(stagedPath, new Uint8Array(0));

  const pieces: PieceInfo[] = [];
  await clock.time(`${p}add_piece`, async () => {
    const sizes: number[] = [];
    let writtenPadded = 0;
    const add = async (source: { path: string } | "pledge", pieceSize: number) => {
      const r = await addPiece({
        registeredProof: opts.registeredProof,
        source,
        stagedPath,
        pieceSize,
        existingPieceSizes: sizes,
      });
      sizes.push(pieceSize);
      pieces.push(r.piece);
      writtenPadded += paddedSize(r.written);
    };
    for (const d of opts.dataPieces ?? []) await add({ path: d.path }, d.pieceSize);
    for (const size of pledgeFill(sectorSize - writtenPadded)) await add("pledge", size);
  });

  if (opts.treeD) {
    await clock.time(`${p}tree_d`, () =>
      generateTreeD({ registeredProof: opts.registeredProof, stagedPath, cacheDir }),
    );
  }
  const base = { registeredProof: opts.registeredProof, proverId, sectorId: opts.sectorId, ticket };
  const pc1 = await clock.time(`${p}pc1`, () =>
    sealPreCommitPhase1({ ...base, cachePath: cacheDir, inPath: stagedPath, outPath: sealedPath, pieces }),
  );
  const pc2 = await clock.time(`${p}pc2`, () =>
    sealPreCommitPhase2({ pc1Output: pc1, cachePath: cacheDir, outPath: sealedPath }),
  );
  const sector: SealedSector = {
    registeredProof: opts.registeredProof,
    sectorSize,
    sectorId: opts.sectorId,
    proverId,
    ticket,
    seed,
    stagedPath,
    sealedPath,
    cacheDir,
    pieces,
    commD: pc2.commD,
    commR: pc2.commR,
  };
  if (opts.commit ?? true) {
    const c1 = await clock.time(`${p}c1`, () =>
      sealCommitPhase1({
        ...base,
        seed,
        cachePath: cacheDir,
        replicaPath: sealedPath,
        commR: pc2.commR,
        commD: pc2.commD,
        pieces,
      }),
    );
    sector.c1Output = c1;
    sector.proof = await clock.time(`${p}c2`, () =>
      sealCommitPhase2({ c1Output: c1, proverId, sectorId: opts.sectorId }),
    );
    sector.verified = await clock.time(`${p}verify_seal`, () =>
      verifySeal({ ...base, seed, commR: pc2.commR, commD: pc2.commD, proof: sector.proof! }),
    );
  }
  if (opts.clearCache ?? true) await clock.time(`${p}clear_cache`, () => clearCache(cacheDir));
  return sector;
}

/** Random payload for a data piece: `bytes` bytes written to `path`. Returns the bytes. */
export function writeRandomPayload(path: string, bytes: number): Uint8Array {
  const data = new Uint8Array(randomBytes(bytes));
  writeFileSync(path, data);
  return data;
}
