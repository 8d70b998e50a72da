import { createHash } from "node:crypto";
import {
  type Address,
  idAddress,
  type Keystore,
  minerMessage,
  type Network,
  parseAddress,
  signedMessageCid,
  signMessage,
} from "../../../core/chain/index.ts";
import { LotusApi, type MsgLookup } from "../../../core/chain/lotus-api.ts";
import {
  fromLotusMessage,
  fromLotusSignedMessage,
  toLotusMessage,
  toLotusSignedMessage,
} from "../../../core/chain/lotus-json.ts";
import { childLogger } from "../../../core/log/index.ts";
import type { ChainMessage, MessageLookup, MessageMethod } from "../../../core/sector/api-chain.ts";
import { messageId } from "../../../core/sector/chain.ts";
import type { KVStore } from "../../../core/store/index.ts";
import { callContextFor, DEFAULT_SECTOR_LIFETIME_EPOCHS } from "./call-context.ts";
import type { LotusCaller } from "./caller.ts";
import { applyGasPolicy, maxFeeOf } from "./gas.ts";
import { foundLookup, pendingLookup } from "./lookup.ts";
import { Outbox, type OutboxEntry } from "./outbox.ts";
import { DEFAULT_SEND_POLICY, type SendPolicy } from "./policy.ts";

const log = childLogger("lotus-sender");

/**
 * The message side of the Lotus chain client: ChainMessage → signed Filecoin message → the node's pool,
 * and back to a MessageLookup. Idempotent per message and safe under kill -9:
 * - push(msg) names the message by messageId(msg). A message the outbox holds is not built again: the
 *   recorded one is made sure to be in flight (re-pushed, byte for byte, only when the sender's nonce on
 *   the node shows it is neither in the pool nor on chain) and the same id comes back.
 * - A new message is built (To = the miner's ID address, method and params from toMinerCall, gas from
 *   GasEstimateMessageGas then the policy), and then, under a per-sender lock:
 *   local key (the sender's key is in the keystore): nonce = max(MpoolGetNonce, the outbox's next nonce),
 *     signed, recorded with its CID and synced, then MpoolPush — a crash after the record re-pushes the
 *     identical bytes, so no second message with another nonce or gas can exist for the id;
 *   no local key: the intent (message, MaxFee, a MsgUuid derived from the id) is recorded first, then
 *     MpoolPushMessage, which signs a given MsgUuid once, so repeating it after a crash sends nothing new;
 *     the signed message it answers is recorded and from then on treated as a local one.
 * - lookup(id) asks StateSearchMsg (allowReplaced) for the recorded CID; see lookup.ts for the status rules.
 * Not done here: `Senders` (several senders, the funded one chosen) and `SendFund` (collateral attached
 * as the message value): messages carry value 0, so the miner actor's available balance pays deposits.
 */

export interface MessageSenderOptions {
  rpc: LotusCaller;
  /** The manager store; the outbox lives in its "common" collection under `chain/`. */
  store: KVStore;
  /** The manager's keystore; without one, or without the sender's key in it, the node's wallet signs. */
  keystore?: Keystore;
  /** The `[Miners.*]` message policy of a miner and message kind (policy.ts sendPolicies); default: DEFAULT_SEND_POLICY. */
  policy?: (actor: number, method: MessageMethod) => SendPolicy;
  /** Epochs after inclusion before a message counts as landed or failed (`Commitment.Confidence`); default 10. */
  confidence?: number;
  /** A PreCommit's sectors expire this many epochs after the head they are sent at; default 540 days. */
  sectorLifetimeEpochs?: number;
  /** StateSearchMsg's lookback limit in epochs; default -1 (no limit). */
  lookbackLimit?: number;
  /** The address prefix messages are written with; default "mainnet" (Lotus reads either). */
  network?: Network;
}

/** A deterministic version-4-shaped uuid from a message id, so the same message always carries the same MsgUuid. */
export function msgUuidOf(id: string): string {
  const b = createHash("sha256").update(`damocles/msg-uuid/${id}`).digest();
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.subarray(0, 16).toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export class MessageSender {
  private readonly outbox: Outbox;
  private readonly rpc: LotusCaller;
  private readonly confidence: number;
  private readonly network: Network;
  private readonly inFlight = new Map<string, Promise<string>>();
  private readonly senderLocks = new Map<string, Promise<unknown>>();

  constructor(private readonly opts: MessageSenderOptions) {
    this.outbox = new Outbox(opts.store);
    this.rpc = opts.rpc;
    this.confidence = opts.confidence ?? 10;
    this.network = opts.network ?? "mainnet";
  }

  /** Sends `msg` once; returns its id (messageId). Pushing it again returns the same id and sends nothing new. */
  push(msg: ChainMessage): Promise<string> {
    const id = messageId(msg);
    const running = this.inFlight.get(id);
    if (running) return running;
    const run = this.pushOnce(id, msg).finally(() => this.inFlight.delete(id));
    this.inFlight.set(id, run);
    return run;
  }

  /** Where a pushed message stands; undefined for an id this sender never recorded. */
  async lookup(id: string): Promise<MessageLookup | undefined> {
    let entry = this.outbox.get(id);
    if (!entry) return undefined;
    const head = (await this.rpc.call(LotusApi.ChainHead)).Height;
    if (!entry.cid) {
      entry = await this.ensureInFlight(entry, head);
      if (!entry.cid) return pendingLookup(entry);
    }
    const found = await this.rpc.call(LotusApi.StateSearchMsg, null, { "/": entry.cid }, this.lookbackLimit(), true);
    if (!found) {
      if (entry.foundAt !== undefined) {
        log.warn(
          `message ${id} (${entry.cid}) was executed at ${entry.foundAt} and is not on chain now (reorg); pending again`,
        );
        entry = { ...entry, foundAt: undefined };
        await this.outbox.update(entry);
      }
      if (entry.repushedAt === undefined || entry.repushedAt < head) entry = await this.ensureInFlight(entry, head);
      return pendingLookup(entry);
    }
    await this.noteFound(entry, found);
    return foundLookup(entry, found, head, this.confidence);
  }

  private lookbackLimit(): number {
    return this.opts.lookbackLimit ?? -1;
  }

  private async noteFound(entry: OutboxEntry, found: MsgLookup): Promise<void> {
    const executed = found.Message["/"];
    const replaced = executed !== entry.cid && entry.replacedBy !== executed;
    if (replaced) log.warn(`message ${entry.id} (${entry.cid}) was replaced on chain by ${executed}`);
    if (replaced || entry.foundAt !== found.Height) {
      await this.outbox.update({ ...entry, foundAt: found.Height, ...(replaced ? { replacedBy: executed } : {}) });
    }
  }

  private async pushOnce(id: string, msg: ChainMessage): Promise<string> {
    const recorded = this.outbox.get(id);
    const head = (await this.rpc.call(LotusApi.ChainHead)).Height;
    if (recorded) {
      await this.ensureInFlight(recorded, head);
      return id;
    }
    const policy = this.opts.policy?.(msg.from, msg.method) ?? DEFAULT_SEND_POLICY;
    const from = await this.resolveSender(msg.from, policy);
    const ctx = await callContextFor(msg, head, {
      rpc: this.rpc,
      network: this.network,
      sectorLifetimeEpochs: this.opts.sectorLifetimeEpochs ?? DEFAULT_SECTOR_LIFETIME_EPOCHS,
      sectorDeals: (actor, sector) => this.outbox.sectorDeals(actor, sector),
    });
    const { from: _actor, nonce: _seq, ...body } = msg;
    const envelope = { from: from.string, to: idAddress(msg.from, this.network).string, nonce: 0 };
    const draft = minerMessage(body, { ...envelope, gasLimit: 0, gasFeeCap: 0n, gasPremium: 0n }, ctx);
    const estimate = fromLotusMessage(
      await this.rpc.call(LotusApi.GasEstimateMessageGas, toLotusMessage(draft), null, null),
    );
    const gas = applyGasPolicy(estimate, policy);
    const local = this.opts.keystore?.has(from) === true;
    await this.withSenderLock(from.string, async () => {
      if (this.outbox.get(id)) return; // recorded meanwhile by another sender object on the same store
      const base = { id, message: msg, from: from.string, pushedEpoch: head };
      if (local) {
        const key = this.opts.keystore!.get(from);
        const nonce = Math.max(
          await this.rpc.call(LotusApi.MpoolGetNonce, from.string),
          this.outbox.nextNonce(from.string),
        );
        const signed = signMessage({ ...draft, ...gas, nonce }, key);
        const entry: OutboxEntry = {
          ...base,
          signer: "local",
          signed: toLotusSignedMessage(signed),
          cid: signedMessageCid(signed).toString(),
        };
        await this.outbox.record(entry, nonce);
        await this.rpc.call(LotusApi.MpoolPush, entry.signed!);
        log.info(`pushed ${msg.method} ${id} as ${entry.cid} from ${from.string} nonce ${nonce}`);
      } else {
        const intent = {
          message: toLotusMessage({ ...draft, ...gas }),
          msgUuid: msgUuidOf(id),
          maxFee: maxFeeOf(gas).toString(),
        };
        await this.outbox.record({ ...base, signer: "node", intent });
        await this.pushThroughNode({ ...base, signer: "node", intent });
      }
    });
    return id;
  }

  /** The signing address: the policy's Sender, else the miner's worker; an ID address is resolved to its key. */
  private async resolveSender(actor: number, policy: SendPolicy): Promise<Address> {
    const configured =
      policy.sender ??
      (await this.rpc.call(LotusApi.StateMinerInfo, idAddress(actor, this.network).string, null)).Worker;
    const address = parseAddress(configured);
    if (address.protocol !== 0) return address;
    return parseAddress(await this.rpc.call(LotusApi.StateAccountKey, address.string, null));
  }

  /** MpoolPushMessage of a recorded intent (same MsgUuid every time), then the signed answer recorded. */
  private async pushThroughNode(entry: OutboxEntry): Promise<OutboxEntry> {
    const intent = entry.intent!;
    const signed = await this.rpc.call(LotusApi.MpoolPushMessage, intent.message, {
      MaxFee: intent.maxFee,
      MsgUuid: intent.msgUuid,
    });
    const cid = signedMessageCid(fromLotusSignedMessage(signed)).toString();
    const done = { ...entry, signed, cid };
    await this.outbox.update(done);
    log.info(
      `pushed ${entry.message.method} ${entry.id} through the node's wallet as ${cid} (nonce ${signed.Message.Nonce})`,
    );
    return done;
  }

  /**
   * Makes sure a recorded message is in flight: a node-wallet intent is pushed (again, same MsgUuid); a
   * signed message is re-pushed, identical, unless the node's next nonce for the sender is past its nonce
   * (then it, or a replacement, is in the pool or on chain already).
   */
  private async ensureInFlight(entry: OutboxEntry, head: number): Promise<OutboxEntry> {
    return this.withSenderLock(entry.from, async () => {
      const current = this.outbox.get(entry.id) ?? entry;
      if (!current.signed) return this.pushThroughNode(current);
      const next = await this.rpc.call(LotusApi.MpoolGetNonce, current.from);
      if (next > current.signed.Message.Nonce) return current;
      if (
        current.cid &&
        (await this.rpc.call(LotusApi.StateSearchMsg, null, { "/": current.cid }, this.lookbackLimit(), true))
      ) {
        return current;
      }
      const updated = { ...current, repushedAt: head };
      await this.outbox.update(updated);
      await this.rpc.call(LotusApi.MpoolPush, current.signed);
      log.info(`re-pushed ${current.message.method} ${current.id} (${current.cid}) at ${head}`);
      return updated;
    });
  }

  private withSenderLock<T>(from: string, fn: () => Promise<T>): Promise<T> {
    const before = this.senderLocks.get(from) ?? Promise.resolve();
    const run = before.then(fn, fn);
    const tail = run.catch(() => {});
    this.senderLocks.set(from, tail);
    void tail.then(() => {
      if (this.senderLocks.get(from) === tail) this.senderLocks.delete(from);
    });
    return run;
  }
}
