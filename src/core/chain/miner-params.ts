import type { Network } from "./address.ts";
import {
  address,
  bitfield,
  bool,
  bytes,
  type CodecValue,
  commitmentCid,
  decodeWith,
  encodeWith,
  int,
  list,
  nullable,
  tuple,
  uint,
} from "./cbor.ts";

/**
 * Params of the miner-actor methods the manager sends, as builtin-actors' CBOR tuples. Field order and
 * types follow go-state-types builtin/v19/miner (miner_types.go, miner_state.go, cbor_gen.go) and are
 * checked byte for byte against its marshaller (tests/fixtures/vectors/chain.json). Sector, deadline and
 * partition numbers, epochs and proof types are numbers; bitfields are sorted lists of sector numbers;
 * CIDs are commitment CID strings (CommR "bagboea4b5a…", CommD/CommP "baga6ea4sea…"); proofs are bytes.
 */

/** Method numbers on the miner actor (go-state-types builtin.MethodsMiner). */
export const MINER_METHODS = {
  SubmitWindowedPoSt: 5,
  DeclareFaultsRecovered: 11,
  ProveCommitAggregate: 26,
  PreCommitSectorBatch2: 28,
  ProveCommitSectors3: 34,
  ProveReplicaUpdates3: 35,
} as const;
export type MinerMethod = keyof typeof MINER_METHODS;

/** cbor-gen's limits: lists of at most 8192 entries, byte strings of at most 2 MiB. */
const MAX_LIST = 8192;
const MAX_BYTES = 2 << 20;
const proof = bytes(MAX_BYTES);

function codecs(network: Network) {
  const sectorPreCommitInfo = tuple({
    sealProof: int,
    sectorNumber: uint,
    sealedCid: commitmentCid("sealed"),
    sealRandEpoch: int,
    dealIds: list(uint, MAX_LIST),
    expiration: int,
    unsealedCid: nullable(commitmentCid("unsealed")),
  });
  const pieceActivationManifest = tuple({
    cid: commitmentCid("unsealed"),
    size: uint,
    verifiedAllocationKey: nullable(tuple({ client: uint, id: uint })),
    notify: list(tuple({ address: address(network), payload: bytes(MAX_BYTES) }), MAX_LIST),
  });
  const pieces = list(pieceActivationManifest, MAX_LIST);
  return {
    PreCommitSectorBatch2: tuple({ sectors: list(sectorPreCommitInfo, MAX_LIST) }),
    ProveCommitSectors3: tuple({
      sectorActivations: list(tuple({ sectorNumber: uint, pieces }), MAX_LIST),
      sectorProofs: list(proof, MAX_LIST),
      aggregateProof: proof,
      aggregateProofType: nullable(int),
      requireActivationSuccess: bool,
      requireNotificationSuccess: bool,
    }),
    ProveCommitAggregate: tuple({ sectorNumbers: bitfield, aggregateProof: proof }),
    SubmitWindowedPoSt: tuple({
      deadline: uint,
      partitions: list(tuple({ index: uint, skipped: bitfield }), MAX_LIST),
      proofs: list(tuple({ postProof: int, proofBytes: proof }), MAX_LIST),
      chainCommitEpoch: int,
      chainCommitRand: bytes(MAX_BYTES),
    }),
    DeclareFaultsRecovered: tuple({
      recoveries: list(tuple({ deadline: uint, partition: uint, sectors: bitfield }), MAX_LIST),
    }),
    ProveReplicaUpdates3: tuple({
      sectorUpdates: list(
        tuple({ sector: uint, deadline: uint, partition: uint, newSealedCid: commitmentCid("sealed"), pieces }),
        MAX_LIST,
      ),
      sectorProofs: list(proof, MAX_LIST),
      aggregateProof: proof,
      updateProofsType: int,
      aggregateProofType: nullable(int),
      requireActivationSuccess: bool,
      requireNotificationSuccess: bool,
    }),
  };
}

const BY_NETWORK = { mainnet: codecs("mainnet"), testnet: codecs("testnet") };
type Codecs = (typeof BY_NETWORK)["mainnet"];

export type MinerParams = { [M in MinerMethod]: CodecValue<Codecs[M]> };
export type PreCommitSectorBatch2Params = MinerParams["PreCommitSectorBatch2"];
export type SectorPreCommitInfo = PreCommitSectorBatch2Params["sectors"][number];
export type ProveCommitSectors3Params = MinerParams["ProveCommitSectors3"];
export type SectorActivationManifest = ProveCommitSectors3Params["sectorActivations"][number];
export type PieceActivationManifest = SectorActivationManifest["pieces"][number];
export type ProveCommitAggregateParams = MinerParams["ProveCommitAggregate"];
export type SubmitWindowedPoStParams = MinerParams["SubmitWindowedPoSt"];
export type DeclareFaultsRecoveredParams = MinerParams["DeclareFaultsRecovered"];
export type ProveReplicaUpdates3Params = MinerParams["ProveReplicaUpdates3"];
export type SectorUpdateManifest = ProveReplicaUpdates3Params["sectorUpdates"][number];

/** The CBOR params of `method`. Throws ChainCodecError "params" naming the field that cannot be written. */
export function encodeMinerParams<M extends MinerMethod>(method: M, params: MinerParams[M]): Uint8Array {
  const codec = BY_NETWORK.mainnet[method] as unknown as Parameters<typeof encodeWith<MinerParams[M]>>[0];
  return encodeWith(codec, params, `${method} params`);
}

/**
 * The params of `method` in CBOR `bytes` (addresses rendered for `network`). Throws ChainCodecError
 * ("cbor" or "params") naming the field, for bytes the actor would refuse to read.
 */
export function decodeMinerParams<M extends MinerMethod>(
  method: M,
  bytes: Uint8Array,
  network: Network = "mainnet",
): MinerParams[M] {
  const codec = BY_NETWORK[network][method] as unknown as Parameters<typeof decodeWith<MinerParams[M]>>[0];
  return decodeWith(codec, bytes, `${method} params`);
}
