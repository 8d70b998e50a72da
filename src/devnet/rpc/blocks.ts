import { encode as encodeDagCbor } from "@ipld/dag-cbor";
import { dagCborCid, parseAddress, type Signature, signBytes, verifyBytes } from "../../core/chain/index.ts";
import { type BlockMsg, LotusBlockApi, type LotusBlockHeader } from "../../core/chain/lotus-blocks.ts";
import { RpcError, type RpcRegistry } from "../../core/rpc/index.ts";
import { devnetTipSetKey, LOTUS_ERROR } from "./messages.ts";
import { actorAddress, DEVNET_BASE_FEE, refusal } from "./shapes.ts";
import type { StateContext } from "./state.ts";
import { minerOf } from "./state-miner.ts";

/**
 * Block production the way lotus-miner does it: Filecoin.MinerCreateBlock turns a template into a header
 * signed with the worker's key, Filecoin.SyncSubmitBlock checks that signature and hands the WinningPoSt to
 * the devnet's block judge (winning-post.ts), which checks the election and verifies the proofs.
 *
 * The devnet keeps no state tree, receipts or block messages (its message pool packs on its own), so the
 * header's ParentStateRoot, ParentMessageReceipts and Messages are placeholder CIDs derived from the
 * epoch, ParentWeight is 0 and BLSAggregate null. A template that carries messages is refused rather than
 * silently dropping them.
 */

/**
 * The bytes a block's BlockSig signs on the devnet: the DAG-CBOR of the header's Lotus JSON fields other
 * than BlockSig (canonical map order; fields a newer client adds are not signed). Lotus signs its CBOR
 * tuple encoding of the header with BlockSig nil instead; the devnet signs and checks its own headers, so
 * the client never computes these bytes.
 */
export function blockSigningBytes(h: LotusBlockHeader): Uint8Array {
  return encodeDagCbor({
    Miner: h.Miner,
    Ticket: h.Ticket ? { VRFProof: h.Ticket.VRFProof } : null,
    ElectionProof: h.ElectionProof ? { WinCount: h.ElectionProof.WinCount, VRFProof: h.ElectionProof.VRFProof } : null,
    BeaconEntries: (h.BeaconEntries ?? []).map((b) => ({ Round: b.Round, Data: b.Data })),
    WinPoStProof: (h.WinPoStProof ?? []).map((p) => ({ PoStProof: p.PoStProof, ProofBytes: p.ProofBytes })),
    Parents: h.Parents.map((c) => c["/"]),
    ParentWeight: h.ParentWeight,
    Height: h.Height,
    ParentStateRoot: h.ParentStateRoot["/"],
    ParentMessageReceipts: h.ParentMessageReceipts["/"],
    Messages: h.Messages["/"],
    BLSAggregate: h.BLSAggregate ? { Type: h.BLSAggregate.Type, Data: h.BLSAggregate.Data } : null,
    Timestamp: h.Timestamp,
    ForkSignaling: h.ForkSignaling,
    ParentBaseFee: h.ParentBaseFee,
  });
}

/** A CID standing for state the devnet does not keep (see the module comment). */
function placeholderCid(kind: string, epoch: number): { "/": string } {
  return { "/": dagCborCid(new TextEncoder().encode(`damocles-devnet/${kind}/${epoch}`)).toString() };
}

const TYPE_OF = { secp256k1: 1, bls: 2 } as const;

function signatureJson(s: Signature): { Type: 1 | 2; Data: string } {
  return { Type: TYPE_OF[s.type], Data: Buffer.from(s.data).toString("base64") };
}

function signatureFromJson(s: { Type: 1 | 2; Data: string | null }): Signature {
  return { type: s.Type === 2 ? "bls" : "secp256k1", data: new Uint8Array(Buffer.from(s.Data ?? "", "base64")) };
}

/** Whether the header's BlockSig is the worker's signature over its signing bytes; a malformed one is not. */
function signedByWorker(header: LotusBlockHeader, worker: string): boolean {
  if (!header.BlockSig) return false;
  try {
    return verifyBytes(signatureFromJson(header.BlockSig), blockSigningBytes(header), parseAddress(worker));
  } catch {
    return false;
  }
}

export function registerDevnetBlockApi(registry: RpcRegistry, ctx: StateContext): void {
  const { devnet } = ctx;
  registry
    .implement(LotusBlockApi.MinerCreateBlock, async (template): Promise<BlockMsg> => {
      const { actor } = await minerOf(ctx, template.Miner);
      if ((template.Messages ?? []).length > 0) {
        throw refusal(
          "malformed",
          `template.Messages: the devnet packs messages from its own pool; leave Messages empty (got ${template.Messages?.length})`,
        );
      }
      const key = devnet.devKey(actor);
      if (!key) {
        throw new RpcError(
          LOTUS_ERROR,
          `Miner: the node's wallet lacks the key of ${actorAddress(actor)}'s worker ${devnet.minerWorker(actor)} (a Worker from the configuration): this devnet signs blocks only with the dev keys it made`,
        );
      }
      const epoch = template.Epoch;
      const header: LotusBlockHeader = {
        Miner: actorAddress(actor),
        Ticket: template.Ticket ? { VRFProof: template.Ticket.VRFProof } : null,
        ElectionProof: template.Eproof
          ? { WinCount: template.Eproof.WinCount, VRFProof: template.Eproof.VRFProof }
          : null,
        BeaconEntries: (template.BeaconValues ?? []).map((b) => ({ Round: b.Round, Data: b.Data })),
        WinPoStProof: (template.WinningPoStProof ?? []).map((p) => ({
          PoStProof: p.PoStProof,
          ProofBytes: p.ProofBytes,
        })),
        Parents: devnetTipSetKey(epoch - 1),
        ParentWeight: "0",
        Height: epoch,
        ParentStateRoot: placeholderCid("state-root", epoch - 1),
        ParentMessageReceipts: placeholderCid("receipts", epoch - 1),
        Messages: placeholderCid("messages", epoch),
        BLSAggregate: null,
        Timestamp: template.Timestamp,
        BlockSig: null,
        ForkSignaling: 0,
        ParentBaseFee: DEVNET_BASE_FEE,
      };
      header.BlockSig = signatureJson(signBytes(key, blockSigningBytes(header)));
      return { Header: header, BlsMessages: [], SecpkMessages: [] };
    })
    .implement(LotusBlockApi.SyncSubmitBlock, async (block) => {
      const header = block.Header;
      const { actor } = await minerOf(ctx, header.Miner);
      const worker = devnet.minerWorker(actor);
      if (!signedByWorker(header, worker)) {
        throw refusal(
          "forbidden",
          `Header.BlockSig: not a signature of ${actorAddress(actor)}'s worker ${worker} over the block at ${header.Height}; create the block with MinerCreateBlock and submit it unchanged`,
        );
      }
      if ((block.BlsMessages ?? []).length + (block.SecpkMessages ?? []).length > 0) {
        throw refusal(
          "malformed",
          "BlsMessages/SecpkMessages: a devnet block carries no messages (its pool packs them)",
        );
      }
      const proofs = (header.WinPoStProof ?? []).map((p) => ({ postProof: p.PoStProof, proof: p.ProofBytes ?? "" }));
      const record = await devnet.submitBlock(actor, header.Height, proofs);
      if (!record.ok) throw refusal(record.code ?? "internal", `block refused: ${record.error ?? "no reason given"}`);
      return null;
    });
}
