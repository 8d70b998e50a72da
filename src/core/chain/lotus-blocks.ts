import * as v from "valibot";
import { defineMethod } from "../rpc/method.ts";
import {
  AddressSchema,
  BigIntStringSchema,
  BytesSchema,
  CidJsonSchema,
  SignatureSchema,
  SignedMessageSchema,
  TipSetKeySchema,
} from "./lotus-api.ts";

/**
 * Block production in the Filecoin node API, as lotus-miner does it (lotus api/api_full.go,
 * chain/types/blocktemplate.go, blockheader.go, blockmsg.go): MinerCreateBlock turns a template into a
 * header signed by the node's wallet with the miner's worker key, SyncSubmitBlock validates and announces
 * it. Beside lotus-api.ts (which it builds on) to keep each file one size; the same conventions hold.
 */

const int = v.pipe(v.number(), v.safeInteger());
const nonNegative = v.pipe(int, v.minValue(0));
const epoch = int;

/** chain/types.Ticket: the VRF of the worker key over the epoch's ticket randomness. */
export const TicketSchema = v.looseObject({ VRFProof: BytesSchema });
/** chain/types.ElectionProof: how many blocks the election won, and its VRF. */
export const ElectionProofSchema = v.looseObject({ WinCount: int, VRFProof: BytesSchema });
/** chain/types.BeaconEntry: a drand round. */
export const BeaconEntrySchema = v.looseObject({ Round: nonNegative, Data: BytesSchema });
/** builtin.PoStProof as Lotus writes it (a registered PoSt proof type and the proof's bytes). */
export const LotusPoStProofSchema = v.looseObject({ PoStProof: int, ProofBytes: BytesSchema });
export type LotusPoStProof = v.InferOutput<typeof LotusPoStProofSchema>;

/** api.BlockTemplate (chain/types/blocktemplate.go): what MinerCreateBlock builds a block from. */
export const BlockTemplateSchema = v.looseObject({
  Miner: AddressSchema,
  Parents: TipSetKeySchema,
  Ticket: v.nullable(TicketSchema),
  Eproof: v.nullable(ElectionProofSchema),
  BeaconValues: v.nullable(v.array(BeaconEntrySchema)),
  Messages: v.nullable(v.array(SignedMessageSchema)),
  Epoch: epoch,
  /** Unix seconds. */
  Timestamp: nonNegative,
  WinningPoStProof: v.nullable(v.array(LotusPoStProofSchema)),
});
export type BlockTemplate = v.InferOutput<typeof BlockTemplateSchema>;

/** chain/types.BlockHeader, every field (BlockHeaderSchema above is the part a tipset's reader needs). */
export const FullBlockHeaderSchema = v.looseObject({
  Miner: AddressSchema,
  Ticket: v.nullable(TicketSchema),
  ElectionProof: v.nullable(ElectionProofSchema),
  BeaconEntries: v.nullable(v.array(BeaconEntrySchema)),
  WinPoStProof: v.nullable(v.array(LotusPoStProofSchema)),
  Parents: v.array(CidJsonSchema),
  ParentWeight: BigIntStringSchema,
  Height: epoch,
  ParentStateRoot: CidJsonSchema,
  ParentMessageReceipts: CidJsonSchema,
  Messages: CidJsonSchema,
  BLSAggregate: v.nullable(SignatureSchema),
  /** Unix seconds. */
  Timestamp: nonNegative,
  BlockSig: v.nullable(SignatureSchema),
  ForkSignaling: nonNegative,
  ParentBaseFee: BigIntStringSchema,
});
export type LotusBlockHeader = v.InferOutput<typeof FullBlockHeaderSchema>;

/** chain/types.BlockMsg: a signed header and the CIDs of the messages it includes. */
export const BlockMsgSchema = v.looseObject({
  Header: FullBlockHeaderSchema,
  BlsMessages: v.nullable(v.array(CidJsonSchema)),
  SecpkMessages: v.nullable(v.array(CidJsonSchema)),
});
export type BlockMsg = v.InferOutput<typeof BlockMsgSchema>;

export const LotusBlockApi = {
  /** The node builds the header for the template and signs it with the worker's key from its wallet. */
  MinerCreateBlock: defineMethod(
    "Filecoin.MinerCreateBlock",
    [["template", BlockTemplateSchema]] as const,
    BlockMsgSchema,
    "write",
  ),
  /** Validates the block (signature, election, WinningPoSt) and announces it; a refusal is an error. */
  SyncSubmitBlock: defineMethod("Filecoin.SyncSubmitBlock", [["block", BlockMsgSchema]] as const, v.null(), "write"),
} as const;
