import * as v from "valibot";
import { defineMethod } from "../rpc/method.ts";
import {
  BlockRecordSchema,
  ChainPolicySchema,
  FaultRecordSchema,
  PoStProofSchema,
  PoStRecordSchema,
  ProvingStatsSchema,
} from "../sector/api-chain.ts";
import { DealProposalParamsSchema, OnChainDealSchema } from "../sector/chain.ts";

/**
 * The Filecoin node JSON-RPC API (`Filecoin.*`, v1, at `/rpc/v1`) as Lotus and Venus serve it: the subset
 * a storage provider's manager needs, described once. The embedded devnet serves these methods and the
 * manager's chain client calls them, so every end-to-end test exercises the same client a real network
 * uses. Shapes follow lotus api/api_full.go and chain/types (field names in Lotus' PascalCase).
 *
 * Answers of a real node carry more fields than we read: object schemas are loose (unknown keys kept, not
 * refused), so a newer Lotus does not break the client. Big integers (token amounts, power) travel as
 * decimal strings, bytes as base64, CIDs as {"/": "<cid>"}, bitfields as go-bitfield run-length arrays.
 *
 * Block production (MinerCreateBlock, SyncSubmitBlock) is in lotus-blocks.ts, LotusBlockApi.
 *
 * `Devnet.*` methods are ours: what only the devnet can answer (its sealing policy, its judgement of
 * WindowPoSts, its election, its test market). A client asks for them only where the node says it is a
 * devnet (StateNetworkName starts with DEVNET_NETWORK_PREFIX); a Lotus node answers "method not found".
 */

export const DEVNET_NETWORK_PREFIX = "damocles-devnet";
export const LOTUS_RPC_PATH = "/rpc/v1";
/** Lotus' own JSON-RPC error codes (api/api_errors.go, from jsonrpc.FirstUserCode = 2). */
export const LotusErrorCode = { ActorNotFound: 4 } as const;

const int = v.pipe(v.number(), v.safeInteger());
const nonNegative = v.pipe(int, v.minValue(0));
const epoch = int;

/** A big integer as its decimal string (abi.TokenAmount, abi.StoragePower). */
export const BigIntStringSchema = v.pipe(v.string(), v.regex(/^-?\d+$/, "expected a decimal integer string"));
/** Bytes as standard base64 (Go's []byte JSON); Lotus writes null for an empty slice. */
export const BytesSchema = v.nullable(v.pipe(v.string(), v.regex(/^[A-Za-z0-9+/]*={0,2}$/, "expected base64 bytes")));
export const CidJsonSchema = v.object({ "/": v.pipe(v.string(), v.minLength(1, "a CID is not empty")) });
export type CidJson = v.InferOutput<typeof CidJsonSchema>;
/** A tipset key: the CIDs of its blocks. null (or []) means the heaviest tipset, the head. */
export const TipSetKeySchema = v.nullable(v.array(CidJsonSchema));
export type TipSetKey = v.InferOutput<typeof TipSetKeySchema>;
/** An address as its string (f0…, f1…, t3…); parsed strictly by core/chain/address.ts where it matters. */
export const AddressSchema = v.pipe(v.string(), v.regex(/^[ft][0-4][a-z0-9]+$/, "expected a Filecoin address"));
/**
 * go-bitfield's JSON: run lengths starting with a run of absent values ([0,3] is {0,1,2}); Lotus writes []
 * for the empty set. Only the first run may be 0.
 */
export const LotusBitfieldSchema = v.pipe(
  v.array(nonNegative, "expected a bitfield as an array of run lengths"),
  v.check((runs) => runs.every((r, i) => i === 0 || r > 0), "only the first run of a bitfield may be 0"),
);
export type LotusBitfield = v.InferOutput<typeof LotusBitfieldSchema>;

export const BlockHeaderSchema = v.looseObject({
  Miner: AddressSchema,
  Height: epoch,
  /** Unix seconds. */
  Timestamp: nonNegative,
  ParentBaseFee: BigIntStringSchema,
});
export const TipSetSchema = v.looseObject({
  Cids: v.array(CidJsonSchema),
  Blocks: v.array(BlockHeaderSchema),
  Height: epoch,
});
export type TipSet = v.InferOutput<typeof TipSetSchema>;

/** chain/types.Message; Params are the CBOR of the method's params, base64. */
export const MessageSchema = v.looseObject({
  Version: nonNegative,
  To: AddressSchema,
  From: AddressSchema,
  Nonce: nonNegative,
  Value: BigIntStringSchema,
  GasLimit: int,
  GasFeeCap: BigIntStringSchema,
  GasPremium: BigIntStringSchema,
  Method: nonNegative,
  Params: BytesSchema,
});
export type LotusMessage = v.InferOutput<typeof MessageSchema>;

/** crypto.Signature: Type 1 secp256k1, 2 BLS. */
export const SignatureSchema = v.object({ Type: v.picklist([1, 2]), Data: BytesSchema });
export const SignedMessageSchema = v.looseObject({ Message: MessageSchema, Signature: SignatureSchema });
export type LotusSignedMessage = v.InferOutput<typeof SignedMessageSchema>;

/**
 * api.MessageSendSpec. MsgUuid makes MpoolPushMessage idempotent (Lotus ≥ 1.19): the node's wallet signs a
 * message with a given uuid once, so a push repeated after a crash cannot spend a second nonce.
 */
export const MessageSendSpecSchema = v.nullable(
  v.looseObject({
    MaxFee: v.optional(BigIntStringSchema),
    MsgUuid: v.optional(v.pipe(v.string(), v.uuid("expected a uuid"))),
  }),
);

export const MessageReceiptSchema = v.looseObject({
  ExitCode: int,
  Return: BytesSchema,
  GasUsed: int,
});
/**
 * What the devnet adds to a receipt: the reason of a refusal as our code and the per-sector outcome of a
 * batch (builtin-actors only return exit codes and a BatchReturn); a real node leaves it out.
 */
export const DevnetOutcomeSchema = v.looseObject({
  Code: v.optional(v.string()),
  Error: v.optional(v.string()),
  Results: v.optional(
    v.array(
      v.object({
        Number: nonNegative,
        Ok: v.boolean(),
        Code: v.optional(v.string()),
        Error: v.optional(v.string()),
      }),
    ),
  ),
});
export const MsgLookupSchema = v.looseObject({
  Message: CidJsonSchema,
  Receipt: MessageReceiptSchema,
  TipSet: TipSetKeySchema,
  Height: epoch,
  DevnetOutcome: v.optional(DevnetOutcomeSchema),
});
export type MsgLookup = v.InferOutput<typeof MsgLookupSchema>;

export const NetworkParamsSchema = v.looseObject({
  NetworkName: v.string(),
  BlockDelaySecs: nonNegative,
  PreCommitChallengeDelay: epoch,
});

export const MinerInfoSchema = v.looseObject({
  Owner: AddressSchema,
  Worker: AddressSchema,
  ControlAddresses: v.nullable(v.array(AddressSchema)),
  WindowPoStProofType: int,
  SectorSize: nonNegative,
  WindowPoStPartitionSectors: nonNegative,
});
export type LotusMinerInfo = v.InferOutput<typeof MinerInfoSchema>;

export const DeadlineInfoSchema = v.looseObject({
  CurrentEpoch: epoch,
  PeriodStart: epoch,
  Index: nonNegative,
  Open: epoch,
  Close: epoch,
  Challenge: epoch,
  FaultCutoff: epoch,
  WPoStPeriodDeadlines: nonNegative,
  WPoStProvingPeriod: nonNegative,
  WPoStChallengeWindow: nonNegative,
  WPoStChallengeLookback: nonNegative,
  FaultDeclarationCutoff: nonNegative,
});
export type LotusDeadlineInfo = v.InferOutput<typeof DeadlineInfoSchema>;

export const DeadlineSchema = v.looseObject({
  PostSubmissions: LotusBitfieldSchema,
  DisputableProofCount: nonNegative,
});
export const PartitionSchema = v.looseObject({
  AllSectors: LotusBitfieldSchema,
  FaultySectors: LotusBitfieldSchema,
  RecoveringSectors: LotusBitfieldSchema,
  LiveSectors: LotusBitfieldSchema,
  ActiveSectors: LotusBitfieldSchema,
});
export type LotusPartition = v.InferOutput<typeof PartitionSchema>;

export const SectorPreCommitInfoSchema = v.looseObject({
  SealProof: int,
  SectorNumber: nonNegative,
  SealedCID: CidJsonSchema,
  SealRandEpoch: epoch,
  DealIDs: v.nullable(v.array(nonNegative)),
  Expiration: epoch,
  UnsealedCid: v.nullish(CidJsonSchema),
});
export const SectorPreCommitOnChainInfoSchema = v.looseObject({
  Info: SectorPreCommitInfoSchema,
  PreCommitDeposit: BigIntStringSchema,
  PreCommitEpoch: epoch,
});

export const SectorOnChainInfoSchema = v.looseObject({
  SectorNumber: nonNegative,
  SealProof: int,
  SealedCID: CidJsonSchema,
  DealIDs: v.nullable(v.array(nonNegative)),
  Activation: epoch,
  Expiration: epoch,
  /** The CC replica's CommR once a replica update landed; null (or absent) before. */
  SectorKeyCID: v.nullish(CidJsonSchema),
});
export type LotusSectorOnChainInfo = v.InferOutput<typeof SectorOnChainInfoSchema>;

export const SectorLocationSchema = v.looseObject({ Deadline: nonNegative, Partition: nonNegative });

const ClaimSchema = v.looseObject({ RawBytePower: BigIntStringSchema, QualityAdjPower: BigIntStringSchema });
export const MinerPowerSchema = v.looseObject({
  MinerPower: ClaimSchema,
  TotalPower: ClaimSchema,
  HasMinPower: v.boolean(),
});

export const DealProposalSchema = v.looseObject({
  PieceCID: CidJsonSchema,
  PieceSize: nonNegative,
  VerifiedDeal: v.boolean(),
  Client: AddressSchema,
  Provider: AddressSchema,
  Label: v.unknown(),
  StartEpoch: epoch,
  EndEpoch: epoch,
  StoragePricePerEpoch: BigIntStringSchema,
  ProviderCollateral: BigIntStringSchema,
  ClientCollateral: BigIntStringSchema,
});
export const MarketDealSchema = v.looseObject({
  Proposal: DealProposalSchema,
  State: v.looseObject({
    /** -1 until the deal is activated in a sector. */
    SectorStartEpoch: epoch,
    LastUpdatedEpoch: epoch,
    /** -1 unless the deal was slashed. */
    SlashEpoch: epoch,
    /** The sector the deal is in (Lotus since nv22); absent on older nodes. */
    SectorNumber: v.optional(nonNegative),
  }),
});
export type LotusMarketDeal = v.InferOutput<typeof MarketDealSchema>;

/** api.MiningBaseInfo: what a block producer needs for an epoch; null when the miner cannot mine it. */
export const MiningBaseInfoSchema = v.looseObject({
  MinerPower: BigIntStringSchema,
  NetworkPower: BigIntStringSchema,
  Sectors: v.nullable(v.array(v.looseObject({ SealProof: int, SectorNumber: nonNegative, SealedCID: CidJsonSchema }))),
  WorkerKey: AddressSchema,
  SectorSize: nonNegative,
  EligibleForMining: v.boolean(),
});

export const VersionSchema = v.looseObject({ Version: v.string(), APIVersion: nonNegative, BlockDelay: nonNegative });

const tsk = ["tsk", TipSetKeySchema] as const;
const miner = ["miner", AddressSchema] as const;
const sectorNumber = ["sectorNumber", nonNegative] as const;
const randomnessParams = [["personalization", int], ["randEpoch", epoch], ["entropy", BytesSchema], tsk] as const;

/** Filecoin.* methods, permissions as Lotus tags them. */
export const LotusApi = {
  Version: defineMethod("Filecoin.Version", [] as const, VersionSchema, "read"),
  ChainHead: defineMethod("Filecoin.ChainHead", [] as const, TipSetSchema, "read"),
  StateNetworkName: defineMethod("Filecoin.StateNetworkName", [] as const, v.string(), "read"),
  StateNetworkVersion: defineMethod("Filecoin.StateNetworkVersion", [tsk] as const, nonNegative, "read"),
  StateGetNetworkParams: defineMethod("Filecoin.StateGetNetworkParams", [] as const, NetworkParamsSchema, "read"),
  StateGetRandomnessFromTickets: defineMethod(
    "Filecoin.StateGetRandomnessFromTickets",
    randomnessParams,
    BytesSchema,
    "read",
  ),
  StateGetRandomnessFromBeacon: defineMethod(
    "Filecoin.StateGetRandomnessFromBeacon",
    randomnessParams,
    BytesSchema,
    "read",
  ),
  StateMinerInfo: defineMethod("Filecoin.StateMinerInfo", [miner, tsk] as const, MinerInfoSchema, "read"),
  StateMinerProvingDeadline: defineMethod(
    "Filecoin.StateMinerProvingDeadline",
    [miner, tsk] as const,
    DeadlineInfoSchema,
    "read",
  ),
  StateMinerDeadlines: defineMethod(
    "Filecoin.StateMinerDeadlines",
    [miner, tsk] as const,
    v.array(DeadlineSchema),
    "read",
  ),
  StateMinerPartitions: defineMethod(
    "Filecoin.StateMinerPartitions",
    [miner, ["deadline", nonNegative], tsk] as const,
    v.nullable(v.array(PartitionSchema)),
    "read",
  ),
  StateMinerSectors: defineMethod(
    "Filecoin.StateMinerSectors",
    [miner, ["sectors", v.nullable(LotusBitfieldSchema)], tsk] as const,
    v.nullable(v.array(SectorOnChainInfoSchema)),
    "read",
  ),
  StateMinerFaults: defineMethod("Filecoin.StateMinerFaults", [miner, tsk] as const, LotusBitfieldSchema, "read"),
  StateMinerPower: defineMethod("Filecoin.StateMinerPower", [miner, tsk] as const, MinerPowerSchema, "read"),
  StateSectorPreCommitInfo: defineMethod(
    "Filecoin.StateSectorPreCommitInfo",
    [miner, sectorNumber, tsk] as const,
    v.nullable(SectorPreCommitOnChainInfoSchema),
    "read",
  ),
  StateSectorGetInfo: defineMethod(
    "Filecoin.StateSectorGetInfo",
    [miner, sectorNumber, tsk] as const,
    v.nullable(SectorOnChainInfoSchema),
    "read",
  ),
  StateSectorPartition: defineMethod(
    "Filecoin.StateSectorPartition",
    [miner, sectorNumber, tsk] as const,
    v.nullable(SectorLocationSchema),
    "read",
  ),
  StateMinerSectorAllocated: defineMethod(
    "Filecoin.StateMinerSectorAllocated",
    [miner, sectorNumber, tsk] as const,
    v.boolean(),
    "read",
  ),
  StateMinerPreCommitDepositForPower: defineMethod(
    "Filecoin.StateMinerPreCommitDepositForPower",
    [miner, ["info", SectorPreCommitInfoSchema], tsk] as const,
    BigIntStringSchema,
    "read",
  ),
  StateMinerInitialPledgeForSector: defineMethod(
    "Filecoin.StateMinerInitialPledgeForSector",
    [["duration", epoch], ["sectorSize", nonNegative], ["verifiedSize", nonNegative], tsk] as const,
    BigIntStringSchema,
    "read",
  ),
  StateLookupID: defineMethod(
    "Filecoin.StateLookupID",
    [["address", AddressSchema], tsk] as const,
    AddressSchema,
    "read",
  ),
  StateAccountKey: defineMethod(
    "Filecoin.StateAccountKey",
    [["address", AddressSchema], tsk] as const,
    AddressSchema,
    "read",
  ),
  StateSearchMsg: defineMethod(
    "Filecoin.StateSearchMsg",
    [tsk, ["message", CidJsonSchema], ["lookbackLimit", int], ["allowReplaced", v.boolean()]] as const,
    v.nullable(MsgLookupSchema),
    "read",
  ),
  StateWaitMsg: defineMethod(
    "Filecoin.StateWaitMsg",
    [
      ["message", CidJsonSchema],
      ["confidence", nonNegative],
      ["lookbackLimit", int],
      ["allowReplaced", v.boolean()],
    ] as const,
    MsgLookupSchema,
    "read",
  ),
  StateMarketStorageDeal: defineMethod(
    "Filecoin.StateMarketStorageDeal",
    [["dealId", nonNegative], tsk] as const,
    MarketDealSchema,
    "read",
  ),
  WalletBalance: defineMethod(
    "Filecoin.WalletBalance",
    [["address", AddressSchema]] as const,
    BigIntStringSchema,
    "read",
  ),
  GasEstimateMessageGas: defineMethod(
    "Filecoin.GasEstimateMessageGas",
    [["message", MessageSchema], ["spec", MessageSendSpecSchema], tsk] as const,
    MessageSchema,
    "read",
  ),
  MpoolGetNonce: defineMethod("Filecoin.MpoolGetNonce", [["address", AddressSchema]] as const, nonNegative, "read"),
  MpoolPush: defineMethod("Filecoin.MpoolPush", [["message", SignedMessageSchema]] as const, CidJsonSchema, "write"),
  /** The node's wallet signs (it holds the sender's key) and assigns the nonce. */
  MpoolPushMessage: defineMethod(
    "Filecoin.MpoolPushMessage",
    [
      ["message", MessageSchema],
      ["spec", MessageSendSpecSchema],
    ] as const,
    SignedMessageSchema,
    "sign",
  ),
  MinerGetBaseInfo: defineMethod(
    "Filecoin.MinerGetBaseInfo",
    [miner, ["epoch", epoch], tsk] as const,
    v.nullable(MiningBaseInfoSchema),
    "read",
  ),
} as const;

const minerId = ["miner", AddressSchema] as const;

/**
 * Ours: what only the devnet answers. Policy: the devnet's sealing constants (a real network's are
 * builtin-actors' policy, which the client knows by network). The PoSt judgement records and totals, the
 * fault reasons and the election are the devnet's bookkeeping of what a real chain leaves implicit.
 */
export const DevnetApi = {
  Policy: defineMethod("Devnet.Policy", [] as const, ChainPolicySchema, "read"),
  Faults: defineMethod("Devnet.Faults", [minerId] as const, v.array(FaultRecordSchema), "read"),
  PoStRecords: defineMethod(
    "Devnet.PoStRecords",
    [minerId, ["limit", v.pipe(int, v.minValue(1), v.maxValue(10_000))]] as const,
    v.array(PoStRecordSchema),
    "read",
  ),
  ProvingStats: defineMethod("Devnet.ProvingStats", [minerId] as const, ProvingStatsSchema, "read"),
  IsElected: defineMethod("Devnet.IsElected", [minerId, ["epoch", epoch]] as const, v.boolean(), "read"),
  SubmitBlock: defineMethod(
    "Devnet.SubmitBlock",
    [minerId, ["epoch", epoch], ["proofs", v.array(PoStProofSchema)]] as const,
    BlockRecordSchema,
    "sign",
  ),
  /**
   * The devnet's test market (PublishStorageDeals without signatures or escrow): the same proposal again
   * answers the deal it made. A refusal is an RPC error whose data is {code: RejectionCode}.
   */
  PublishDeal: defineMethod(
    "Devnet.PublishDeal",
    [["proposal", DealProposalParamsSchema]] as const,
    OnChainDealSchema,
    "sign",
  ),
} as const;
