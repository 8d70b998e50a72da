/**
 * The typed face of the proofs addon (crates/proofs-ffi over filecoin-proofs-api 19.x).
 *
 * - Every proof call is async and runs off the JS thread; failures reject with the library's message
 *   (a Rust panic rejects with "Rust panic: …" instead of killing the process).
 * - Settings (parameter directory, parent cache) are per process and fixed at the first proof call:
 *   call `configureProofs()` first if the defaults do not fit (see config.ts).
 * - SNARK steps check their parameter files first and throw `ParamsNotReadyError` naming the fix.
 * - Conventions: 32-byte values are Uint8Array; sector numbers and sizes are numbers; proof types are
 *   wire integers (the table in src/core/sector/proof.ts); PC1/C1 outputs are the protocol's JSON.
 */

export {
  sealProofFromName,
  sealProofName,
  UPDATE_PROOFS,
  updateProofFor,
  updateProofInfo,
} from "../sector/proof.ts";
export * from "./config.ts";
export * from "./details.ts";
export * from "./lifecycle.ts";
export { type OpenFilesLimit, raiseOpenFilesLimit } from "./limits.ts";
export {
  describeMemoryPolicy,
  execProgram,
  logMemoryPolicy,
  type MemoryPolicy,
  memoryPolicy,
  preferNumaNode,
} from "./mempolicy.ts";
export { AddonNotBuiltError, addonAvailable } from "./native.ts";
export * from "./params.ts";
export * from "./post.ts";
export * from "./seal.ts";
export * from "./types.ts";
export * from "./update.ts";
