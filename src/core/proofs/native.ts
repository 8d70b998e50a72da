/**
 * Loads the napi-rs addon (crates/proofs-ffi) and describes its raw surface. Nothing outside
 * src/core/proofs imports this file: the typed API in the sibling modules is the contract.
 *
 * The `.node` is required by a literal relative path so `bun build --compile` embeds it in
 * dist/damocles (napi-rs' generated index.js loader is not embeddable). It is loaded on first use,
 * so modules that only need types or constants work where the addon is not built.
 *
 * Raw conventions: registered proofs are wire integers; 32-byte values are Uint8Array; u64
 * quantities are JS numbers (safe integers, checked by the typed layer); phase outputs are JSON text.
 */

export interface RawPieceInfo {
  commitment: Uint8Array;
  size: number;
}

export interface RawPrivateReplica {
  sectorNumber: number;
  commR: Uint8Array;
  cacheDir: string;
  sealedPath: string;
}

export interface RawPublicReplica {
  sectorNumber: number;
  commR: Uint8Array;
}

export interface RawPoStProof {
  postProof: number;
  proof: Uint8Array;
}

export interface RawParamCircuit {
  circuit: string;
  cacheId: string;
  paramsFile: string;
  vkFile: string;
  metaFile: string;
  manifestFile: string;
}

export interface RawParamFileStatus {
  name: string;
  role: string;
  required: boolean;
  status: string;
  size: number;
  expectedSize: number;
  detail: string;
}

export interface RawParamCircuitStatus {
  circuit: string;
  cacheId: string;
  hasManifest: boolean;
  seedFingerprint?: string | null;
  files: RawParamFileStatus[];
}

export interface RawGenerateResult {
  circuit: string;
  cacheId: string;
  seconds: number;
  files: { name: string; size: number; sha256: string }[];
}

export interface RawEffectiveConfig {
  parameterCache: string;
  parentCache: string;
  useMulticoreSdr: boolean;
  locked: boolean;
}

export interface NativeAddon {
  configure(config: {
    parameterCache?: string;
    parentCache?: string;
    useMulticoreSdr?: boolean;
    logLevel?: string;
  }): RawEffectiveConfig;
  addonInfo(): { version: string; features: string[]; config: RawEffectiveConfig };
  debugPanic(message: string): Promise<void>;

  // registry
  sealProofInfo(p: number): Promise<{
    sectorSize: number;
    partitions: number;
    apiVersion: string;
    singlePartitionProofLen: number;
    circuitIdentifier: string;
  }>;
  postProofInfo(p: number): Promise<{
    sectorSize: number;
    kind: string;
    sectorCount: number;
    apiVersion: string;
    singlePartitionProofLen: number;
    circuitIdentifier: string;
  }>;
  updateProofInfo(p: number): Promise<{
    sectorSize: number;
    partitions: number;
    apiVersion: string;
    singlePartitionProofLen: number;
  }>;

  // params
  paramsExpected(sectorSize: number, kinds: string[]): Promise<RawParamCircuit[]>;
  paramsGenerate(dir: string, sectorSize: number, circuit: string, seed: string): Promise<RawGenerateResult>;
  paramsInspect(
    dir: string,
    sectorSize: number,
    kinds: string[],
    verifyHashes: boolean,
  ): Promise<RawParamCircuitStatus[]>;

  // pieces and sealing
  addPiece(
    proof: number,
    sourcePath: string | null,
    stagedPath: string,
    pieceSize: number,
    existingPieceSizes: number[],
  ): Promise<{ piece: RawPieceInfo; written: number }>;
  generatePieceCommitment(proof: number, path: string, pieceSize: number): Promise<RawPieceInfo>;
  computeCommD(proof: number, pieces: RawPieceInfo[]): Promise<Uint8Array>;
  generateTreeD(proof: number, stagedPath: string, cacheDir: string): Promise<Uint8Array>;
  sealPreCommitPhase1(
    proof: number,
    cachePath: string,
    inPath: string,
    outPath: string,
    proverId: Uint8Array,
    sectorNumber: number,
    ticket: Uint8Array,
    pieces: RawPieceInfo[],
  ): Promise<string>;
  sealPreCommitPhase2(
    phase1Json: string,
    cachePath: string,
    outPath: string,
  ): Promise<{ registeredProof: number; commR: Uint8Array; commD: Uint8Array }>;
  sealCommitPhase1(
    proof: number,
    cachePath: string,
    replicaPath: string,
    proverId: Uint8Array,
    sectorNumber: number,
    ticket: Uint8Array,
    seed: Uint8Array,
    commR: Uint8Array,
    commD: Uint8Array,
    pieces: RawPieceInfo[],
  ): Promise<string>;
  sealCommitPhase2(phase1Json: string, proverId: Uint8Array, sectorNumber: number): Promise<Uint8Array>;
  verifySeal(
    proof: number,
    commR: Uint8Array,
    commD: Uint8Array,
    proverId: Uint8Array,
    sectorNumber: number,
    ticket: Uint8Array,
    seed: Uint8Array,
    proofBytes: Uint8Array,
  ): Promise<boolean>;
  clearCache(cachePath: string): Promise<void>;
  unsealRange(
    proof: number,
    cachePath: string,
    sealedPath: string,
    outputPath: string,
    proverId: Uint8Array,
    sectorNumber: number,
    commD: Uint8Array,
    ticket: Uint8Array,
    offset: number,
    numBytes: number,
  ): Promise<number>;

  // PoSt
  generateWinningPostSectorChallenge(
    postProof: number,
    randomness: Uint8Array,
    sectorSetLen: number,
    proverId: Uint8Array,
  ): Promise<number[]>;
  generateWinningPost(
    postProof: number,
    randomness: Uint8Array,
    proverId: Uint8Array,
    replicas: RawPrivateReplica[],
  ): Promise<RawPoStProof[]>;
  generateWinningPostWithVanilla(
    postProof: number,
    randomness: Uint8Array,
    proverId: Uint8Array,
    vanillaProofs: Uint8Array[],
  ): Promise<RawPoStProof[]>;
  verifyWinningPost(
    postProof: number,
    randomness: Uint8Array,
    proverId: Uint8Array,
    proof: Uint8Array,
    replicas: RawPublicReplica[],
  ): Promise<boolean>;
  generateFallbackSectorChallenges(
    postProof: number,
    randomness: Uint8Array,
    sectorNumbers: number[],
    proverId: Uint8Array,
  ): Promise<{ sectorNumber: number; challenges: number[] }[]>;
  generateSingleVanillaProof(postProof: number, replica: RawPrivateReplica, challenges: number[]): Promise<Uint8Array>;
  generateWindowPost(
    postProof: number,
    randomness: Uint8Array,
    proverId: Uint8Array,
    replicas: RawPrivateReplica[],
  ): Promise<{ proofs: RawPoStProof[]; faults: number[] }>;
  generateWindowPostWithVanilla(
    postProof: number,
    randomness: Uint8Array,
    proverId: Uint8Array,
    vanillaProofs: Uint8Array[],
  ): Promise<RawPoStProof[]>;
  generateSingleWindowPostWithVanilla(
    postProof: number,
    randomness: Uint8Array,
    proverId: Uint8Array,
    vanillaProofs: Uint8Array[],
    partitionIndex: number,
  ): Promise<RawPoStProof>;
  mergeWindowPostPartitionProofs(postProof: number, partitionProofs: Uint8Array[]): Promise<RawPoStProof>;
  getNumPartitionForFallbackPost(postProof: number, numSectors: number): Promise<number>;
  verifyWindowPost(
    randomness: Uint8Array,
    proverId: Uint8Array,
    proofs: RawPoStProof[],
    replicas: RawPublicReplica[],
  ): Promise<boolean>;

  // empty-sector update
  emptySectorUpdateEncodeInto(
    updateProof: number,
    newReplicaPath: string,
    newCachePath: string,
    sectorKeyPath: string,
    sectorKeyCachePath: string,
    stagedDataPath: string,
    pieces: RawPieceInfo[],
  ): Promise<{ commRNew: Uint8Array; commRLastNew: Uint8Array; commDNew: Uint8Array }>;
  emptySectorUpdateDecodeFrom(
    updateProof: number,
    outDataPath: string,
    replicaPath: string,
    sectorKeyPath: string,
    sectorKeyCachePath: string,
    commDNew: Uint8Array,
  ): Promise<void>;
  emptySectorUpdateRemoveEncodedData(
    updateProof: number,
    sectorKeyPath: string,
    sectorKeyCachePath: string,
    replicaPath: string,
    replicaCachePath: string,
    dataPath: string,
    commDNew: Uint8Array,
  ): Promise<void>;
  generateEmptySectorUpdatePartitionProofs(
    updateProof: number,
    commROld: Uint8Array,
    commRNew: Uint8Array,
    commDNew: Uint8Array,
    sectorKeyPath: string,
    sectorKeyCachePath: string,
    replicaPath: string,
    replicaCachePath: string,
  ): Promise<Uint8Array[]>;
  verifyEmptySectorUpdatePartitionProofs(
    updateProof: number,
    partitionProofs: Uint8Array[],
    commROld: Uint8Array,
    commRNew: Uint8Array,
    commDNew: Uint8Array,
  ): Promise<boolean>;
  generateEmptySectorUpdateProofWithVanilla(
    updateProof: number,
    vanillaProofs: Uint8Array[],
    commROld: Uint8Array,
    commRNew: Uint8Array,
    commDNew: Uint8Array,
  ): Promise<Uint8Array>;
  generateEmptySectorUpdateProof(
    updateProof: number,
    commROld: Uint8Array,
    commRNew: Uint8Array,
    commDNew: Uint8Array,
    sectorKeyPath: string,
    sectorKeyCachePath: string,
    replicaPath: string,
    replicaCachePath: string,
  ): Promise<Uint8Array>;
  verifyEmptySectorUpdateProof(
    updateProof: number,
    proof: Uint8Array,
    commROld: Uint8Array,
    commRNew: Uint8Array,
    commDNew: Uint8Array,
  ): Promise<boolean>;
}

/** Where scripts/build-addon installs the addon, relative to this file. */
export const ADDON_RELATIVE_PATH = "native/damocles_proofs.node";

export class AddonNotBuiltError extends Error {
  constructor(cause: unknown) {
    super(
      `proofs addon not built: run ./scripts/setup (or ./scripts/build-addon) ` +
        `[src/core/proofs/${ADDON_RELATIVE_PATH}: ${cause instanceof Error ? cause.message : String(cause)}]`,
    );
    this.name = "AddonNotBuiltError";
  }
}

let addon: NativeAddon | undefined;

/** The addon, loaded on first call. Throws AddonNotBuiltError with the fix when it is missing. */
export function native(): NativeAddon {
  if (addon) return addon;
  try {
    // Literal path: keeps the addon embeddable by `bun build --compile`.
    addon = require("./native/damocles_proofs.node") as NativeAddon;
  } catch (err) {
    throw new AddonNotBuiltError(err);
  }
  return addon;
}

/** True when the addon can be loaded (for callers that degrade gracefully). */
export function addonAvailable(): boolean {
  try {
    native();
    return true;
  } catch {
    return false;
  }
}
