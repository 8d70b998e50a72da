/**
 * The embedded devnet, the manager's in-process Filecoin chain: a local chain persisted in the manager's
 * store that verifies every seal, replica-update and PoSt proof with the real proofs library. It implements
 * the `Chain` contract of core/sector/chain.ts; the manager hosts it (daemon.ts) and never reaches past this
 * face. Offered here: the chain itself and its settings, pre-sealed sectors, the randomness beacon, and the
 * proof verifiers (the real ones from the native addon, and accept-all ones for tests and for
 * `InsecureSkipProofVerification`), which the manager also uses to check the proofs workers submit; and the
 * node API it serves at /rpc/v1 (devnetRpc, registerDevnetStateApi) and the standalone node (startDevnetNode).
 */

export { type Account, DEVNET_NETWORK, devWorkerKey } from "./accounts.ts";
export { DevnetChain, type DevnetOptions } from "./chain.ts";
export { type DevnetConfig, devnetSettings } from "./config.ts";
export { BLOCK_GAS_LIMIT, DEVNET_BASE_FEE, gasEstimate, MessageRefusedError } from "./intake.ts";
export { EXIT_CODE_OF } from "./mpool.ts";
export { type DevnetNodeOptions, type RunningDevnetNode, startDevnetNode } from "./node/start.ts";
export { type PresealManifest, presealSectors, readPresealManifest } from "./preseal.ts";
export { loadPoStVerifier, loadProofsVerifier, loadUpdateVerifier, proofsCommDCalculator } from "./proofs-verifier.ts";
export { type Beacon, deriveRandomness, type RandomnessDomain } from "./randomness.ts";
export { type DevnetMessageApiOptions, devnetTipSetKey, registerDevnetMessageApi } from "./rpc/messages.ts";
export {
  type DevnetRegistrar,
  type DevnetRpc,
  type DevnetRpcOptions,
  devnetRpc,
  serveDevnet,
} from "./rpc/server.ts";
export { type DevnetStateDeps, registerDevnetStateApi } from "./rpc/state.ts";
export {
  acceptAllPoStVerifier,
  acceptAllUpdateVerifier,
  acceptAllVerifier,
  type CommDCalculator,
  type DataPiece,
  InvalidProofError,
  type PoStVerifier,
  type PoStVerifyInput,
  type SealVerifier,
  type UpdateVerifier,
  zeroFilled,
} from "./verifier.ts";
