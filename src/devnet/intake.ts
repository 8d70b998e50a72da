import * as v from "valibot";
import {
  ADDRESS_PROTOCOLS,
  addressId,
  ChainCodecError,
  type DecodedMinerCall,
  dealIdsOf,
  decodeSignedMessage,
  encodeSignedMessage,
  fromMinerCall,
  parseAddress,
  type SignedMessage,
  signedMessageCid,
  verifySignedMessage,
} from "../core/chain/index.ts";
import type { ChainMessage, MessageLookup } from "../core/sector/chain.ts";
import { type Account, type Accounts, DEVNET_NETWORK, idString } from "./accounts.ts";
import type { DevnetClock } from "./clock.ts";
import type { DevnetSettings } from "./config.ts";
import { type Execution, type MessagePool, rejected } from "./mpool.ts";
import { type DevnetStore, K } from "./store.ts";

/**
 * Intake of real Filecoin messages, checked the way a Lotus node's message pool checks them: signature,
 * nonce (with replace-by-fee), balance, fee cap, gas limit, the miner called and its params. An accepted
 * message enters the same pool as the internal path (mpool.ts) under its Filecoin CID, with an envelope
 * (`signed/<cid>`) that the execution reads to check the sender's authority, charge gas and bump the nonce.
 */

/** The devnet's base fee in attoFIL, constant (ChainHead's ParentBaseFee). */
export const DEVNET_BASE_FEE = 100n;
/** Lotus's block gas limit: no message may ask for more. */
export const BLOCK_GAS_LIMIT = 10_000_000_000;
/** Lotus's replace-by-fee rule: a replacement's GasPremium is at least 1.25× the old one's. */
const RBF_NUM = 125n;
const RBF_DEN = 100n;
const GAS_BASE = 5_000_000;
const GAS_PER_PARAMS_BYTE = 2_000;

/** The gas a message with `paramsBytes` of params uses on the devnet (deterministic; what it is charged). */
export const gasEstimate = (paramsBytes: number): number => GAS_BASE + GAS_PER_PARAMS_BYTE * paramsBytes;

/** A message the pool refuses; `field` names what is wrong (From, Nonce, GasFeeCap…). */
export class MessageRefusedError extends Error {
  override name = "MessageRefusedError";
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

const refuse = (field: string, message: string): never => {
  throw new MessageRefusedError(field, message);
};

const int = v.pipe(v.number(), v.safeInteger(), v.minValue(0));
const atto = v.pipe(v.string(), v.regex(/^\d+$/));
const EnvelopeSchema = v.object({
  cid: v.string(),
  account: int,
  to: int,
  nonce: int,
  value: atto,
  gasLimit: int,
  gasFeeCap: atto,
  gasPremium: atto,
  /** The gas its execution uses (gasEstimate of its params). */
  gasNeeded: int,
  /** The signed message's dag-cbor, base64 (MpoolPushMessage answers it again for a repeated uuid). */
  signed: v.string(),
  gasUsed: v.optional(int),
  replacedBy: v.optional(v.string()),
  /** The MsgUuid it was pushed with (MpoolPushMessage), so forgetting it also forgets the uuid. */
  uuid: v.optional(v.string()),
});
export type Envelope = v.InferOutput<typeof EnvelopeSchema>;

const IK = {
  envelope: (cid: string) => `signed/${cid}`,
  nonces: (account: number) => `signed-nonce/${account}/`,
  nonce: (account: number, nonce: number) => `signed-nonce/${account}/${String(nonce).padStart(16, "0")}`,
  uuid: (uuid: string) => `signed-uuid/${uuid}`,
};

const cost = (e: Pick<Envelope, "value" | "gasLimit" | "gasFeeCap">): bigint =>
  BigInt(e.value) + BigInt(e.gasLimit) * BigInt(e.gasFeeCap);

export class MessageIntake {
  constructor(
    private readonly db: DevnetStore,
    private readonly clock: DevnetClock,
    private readonly settings: DevnetSettings,
    private readonly accounts: Accounts,
    private readonly pool: MessagePool,
  ) {}

  envelope(cid: string): Envelope | undefined {
    return this.db.kv.getParsed(IK.envelope(cid), EnvelopeSchema);
  }

  /** The account's pooled envelopes, by nonce from its chain nonce up (contiguous: gaps are refused). */
  private pending(account: Account): Envelope[] {
    return this.db.kv
      .scan(IK.nonces(account.id))
      .map((e) => this.envelope(e.value))
      .filter((e): e is Envelope => e !== undefined && e.nonce >= account.nonce && this.pool.isPending(e.cid))
      .sort((a, b) => a.nonce - b.nonce);
  }

  /** The nonce the account's next message takes, counting the messages waiting in the pool. */
  nextNonce(account: Account): number {
    return account.nonce + this.pending(account).length;
  }

  /**
   * Checks and pools a signed message; returns its CID. The same message again returns the same CID and
   * changes nothing. `uuid` (MpoolPushMessage's MsgUuid) is recorded in the transaction that pools it.
   */
  push(signed: SignedMessage, uuid?: string): string {
    const msg = signed.message;
    const account =
      this.accounts.resolve(msg.from) ??
      refuse("From", `${msg.from} has no account on this devnet: send from a miner's worker (StateMinerInfo Worker)`);
    const cid = codec("Message", () => signedMessageCid(signed).toString());
    if (this.envelope(cid)) return cid;
    const signer = parseAddress(account.key);
    if (!verifySignedMessage(signed, signer)) {
      refuse(
        "Signature",
        `the ${signed.signature.type} signature does not verify against ${account.key} (the key of ${msg.from}): sign the message's CID with that key`,
      );
    }
    const to = codec("To", () => parseAddress(msg.to));
    const actor = to.protocol === ADDRESS_PROTOCOLS.id ? Number(addressId(to)) : undefined;
    if (actor === undefined || !this.db.miner(actor)) {
      refuse("To", `${msg.to} is not a miner actor on this devnet: send to the miner's ID address (t0…)`);
    }
    const miner = actor as number;
    if (msg.gasFeeCap < DEVNET_BASE_FEE) {
      refuse(
        "GasFeeCap",
        `${msg.gasFeeCap} attoFIL is below the base fee ${DEVNET_BASE_FEE}: raise it (GasEstimateMessageGas fills it)`,
      );
    }
    if (msg.gasPremium > msg.gasFeeCap) {
      refuse(
        "GasPremium",
        `${msg.gasPremium} attoFIL is above GasFeeCap ${msg.gasFeeCap}: lower it or raise the fee cap`,
      );
    }
    const gasNeeded = gasEstimate(msg.params.length);
    if (msg.gasLimit < gasNeeded) {
      refuse(
        "GasLimit",
        `${msg.gasLimit} is below the ${gasNeeded} gas this message uses: raise it (GasEstimateMessageGas fills it)`,
      );
    }
    if (msg.gasLimit > BLOCK_GAS_LIMIT) {
      refuse("GasLimit", `${msg.gasLimit} is above the block gas limit ${BLOCK_GAS_LIMIT}: lower it`);
    }
    const decoded = codec("Params", () =>
      fromMinerCall(msg.method, msg.params, {
        wpostChallengeLookback: this.settings.WPoStChallengeLookback,
        network: DEVNET_NETWORK,
      }),
    );

    const pending = this.pending(account);
    const next = account.nonce + pending.length;
    if (msg.nonce < account.nonce) {
      refuse("Nonce", `${msg.nonce} is below ${msg.from}'s next nonce ${next}: take it from MpoolGetNonce`);
    }
    if (msg.nonce > next) {
      refuse("Nonce", `${msg.nonce} leaves a gap after ${msg.from}'s next nonce ${next}: use ${next} (MpoolGetNonce)`);
    }
    const replaced = pending.find((e) => e.nonce === msg.nonce);
    if (replaced) {
      const old = BigInt(replaced.gasPremium);
      if (msg.gasPremium * RBF_DEN < old * RBF_NUM || msg.gasPremium <= old) {
        refuse(
          "GasPremium",
          `${msg.gasPremium} attoFIL cannot replace message ${replaced.cid} with nonce ${msg.nonce} (GasPremium ${old}): a replacement needs at least 1.25× (${(old * RBF_NUM + RBF_DEN - 1n) / RBF_DEN}), or use nonce ${next}`,
        );
      }
    }
    const envelope: Envelope = {
      cid,
      account: account.id,
      to: miner,
      nonce: msg.nonce,
      value: msg.value.toString(),
      gasLimit: msg.gasLimit,
      gasFeeCap: msg.gasFeeCap.toString(),
      gasPremium: msg.gasPremium.toString(),
      gasNeeded,
      signed: Buffer.from(encodeSignedMessage(signed)).toString("base64"),
    };
    const committed = pending.filter((e) => e !== replaced).reduce((sum, e) => sum + cost(e), 0n);
    const balance = BigInt(account.balance);
    if (msg.value < 0n) refuse("Value", `${msg.value} is negative: send 0 or more attoFIL`);
    if (committed + cost(envelope) > balance) {
      refuse(
        "Value",
        `${msg.from} holds ${balance} attoFIL; Value + GasLimit×GasFeeCap is ${cost(envelope)}${committed ? ` on top of ${committed} its pending messages may spend` : ""}: lower them or fund the account`,
      );
    }
    const body = { ...internalBody(decoded, this.db, miner), from: miner, nonce: msg.nonce } as ChainMessage;
    const pushedEpoch = replaced
      ? (this.pool.lookup(replaced.cid)?.pushedEpoch ?? this.clock.headEpoch())
      : this.clock.headEpoch();
    this.db.transaction(() => {
      if (replaced) {
        // The replacement takes the old message's place in line, so the account's nonces execute in order.
        this.db.kv.putJSON(IK.envelope(replaced.cid), { ...replaced, replacedBy: cid });
        this.pool.remove(replaced.cid);
        this.db.kv.put(K.final(this.clock.headEpoch(), replaced.cid), "");
      }
      this.db.kv.putJSON(IK.envelope(cid), uuid === undefined ? envelope : { ...envelope, uuid });
      this.db.kv.put(IK.nonce(account.id, msg.nonce), cid);
      this.pool.add(cid, body, pushedEpoch);
      if (uuid !== undefined) this.db.kv.put(IK.uuid(uuid), cid);
    });
    return cid;
  }

  /** Forgets a done-with message's envelope and its MsgUuid (history.ts). */
  forget(cid: string): void {
    const e = this.envelope(cid);
    if (!e) return;
    // Its nonce marker went when it executed (charge) or was taken over by its replacement.
    if (e.uuid !== undefined && this.db.kv.get(IK.uuid(e.uuid)) === cid) this.db.kv.del(IK.uuid(e.uuid));
    this.db.kv.del(IK.envelope(cid));
  }

  /** The signed message pushed with MsgUuid `uuid`, if one was. */
  signedByUuid(uuid: string): SignedMessage | undefined {
    const cid = this.db.kv.get(IK.uuid(uuid));
    const e = cid === undefined ? undefined : this.envelope(cid);
    return e && decodeSignedMessage(new Uint8Array(Buffer.from(e.signed, "base64")), DEVNET_NETWORK);
  }

  /** The refusal a signed message executes with when its sender may not call the miner; else undefined. */
  authorize(m: MessageLookup, workerOf: (actor: number) => number | undefined): Execution | undefined {
    const e = this.envelope(m.cid);
    if (!e || workerOf(e.to) === e.account) return undefined;
    return rejected(
      "forbidden",
      `${idString(e.account)} is neither the worker nor a control address of miner ${idString(e.to)}`,
    );
  }

  /**
   * After execution: the sender's nonce moves on and it pays GasUsed × base fee plus the premium (capped
   * by the fee cap) on its gas limit, and the Value when the call succeeded. Inside the epoch's transaction.
   */
  charge(m: MessageLookup, outcome: Execution): void {
    const e = this.envelope(m.cid);
    if (!e) return;
    const account = this.accounts.get(e.account);
    if (!account) throw new Error(`devnet: the account ${idString(e.account)} of message ${m.cid} is missing`);
    const feeCap = BigInt(e.gasFeeCap);
    const baseFee = feeCap < DEVNET_BASE_FEE ? feeCap : DEVNET_BASE_FEE;
    const tipRate = BigInt(e.gasPremium) < feeCap - baseFee ? BigInt(e.gasPremium) : feeCap - baseFee;
    const spent = BigInt(e.gasNeeded) * baseFee + BigInt(e.gasLimit) * tipRate + (outcome.ok ? BigInt(e.value) : 0n);
    const left = BigInt(account.balance) - spent;
    this.accounts.put({ ...account, nonce: account.nonce + 1, balance: (left < 0n ? 0n : left).toString() });
    this.db.kv.putJSON(IK.envelope(m.cid), { ...e, gasUsed: e.gasNeeded });
    // The nonce index holds pooled messages only, so counting an account's pending ones stays cheap.
    this.db.kv.del(IK.nonce(e.account, e.nonce));
  }

  /** The executed message `cid` stands for: itself, or (allowReplaced) the one that replaced it. */
  executed(cid: string, allowReplaced: boolean): { lookup: MessageLookup; gasUsed: number } | undefined {
    let target = cid;
    for (let e = this.envelope(target); allowReplaced && e?.replacedBy; e = this.envelope(target))
      target = e.replacedBy;
    const lookup = this.pool.lookup(target);
    if (!lookup || lookup.status === "pending") return undefined;
    return { lookup, gasUsed: this.envelope(target)?.gasUsed ?? 0 };
  }
}

function codec<T>(field: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ChainCodecError) return refuse(field, err.message);
    throw err;
  }
}

/**
 * The decoded call as the devnet's actor executes it. A ProveCommitSectors3 carries each sector's deals as
 * pieces (builtin's way); they ride on the internal ProveCommit so the actor checks and activates them. A
 * SubmitWindowedPoSt names only what it skips: the faulty sectors of a partition it does not skip are the
 * ones it proves again, so they are its recoveries (builtin declares them beforehand with
 * DeclareFaultsRecovered; the devnet takes the proof itself as the declaration).
 */
function internalBody(decoded: DecodedMinerCall, db: DevnetStore, actor: number): DecodedMinerCall["body"] {
  if (decoded.method === "SubmitWindowedPoSt") {
    const { post } = decoded.body;
    const partitions = db.deadlines(actor)[post.deadline]?.partitions ?? [];
    return {
      ...decoded.body,
      post: {
        ...post,
        partitions: post.partitions.map((p) => {
          const skipped = new Set(p.skipped);
          const sectors = partitions[p.index] ?? [];
          return { ...p, recovered: sectors.filter((n) => !skipped.has(n) && db.isFaulty(actor, n)) };
        }),
      },
    };
  }
  if (decoded.method !== "ProveCommitSectors3") return decoded.body;
  return {
    ...decoded.body,
    sectors: decoded.body.sectors.map((sector, i) => {
      const dealIds = dealIdsOf(decoded.activation.pieces[i] ?? []);
      return dealIds.length > 0 ? { ...sector, dealIds } : sector;
    }),
  };
}
