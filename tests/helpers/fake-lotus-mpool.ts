import { Hono } from "hono";
import { openAuthenticator } from "../../src/core/auth/index.ts";
import {
  generatePrivateKey,
  keyAddress,
  type PrivateKey,
  signedMessageCid,
  signMessage,
  verifySignedMessage,
} from "../../src/core/chain/index.ts";
import { LotusApi, type LotusSignedMessage } from "../../src/core/chain/lotus-api.ts";
import { fromLotusMessage, fromLotusSignedMessage, toLotusSignedMessage } from "../../src/core/chain/lotus-json.ts";
import { mountRpc, RpcClient, RpcError, RpcRegistry, type RunningServer, serve } from "../../src/core/rpc/index.ts";

/**
 * A fake Lotus node for the chain client's message tests: the Filecoin.* methods the sender calls, over a
 * real HTTP socket. It keeps a message pool (refusing a bad signature, a nonce already taken by the same
 * message, a nonce below the sender's chain nonce), a node wallet (MpoolPushMessage, signing a MsgUuid
 * once), and an inclusion table the test drives (include, reorg, replace), which StateSearchMsg answers.
 */

export interface Inclusion {
  height: number;
  exitCode: number;
  /** The CID actually executed (a replacement's), when not the searched one. */
  executed?: string;
  outcome?: {
    Code?: string;
    Error?: string;
    Results?: { Number: number; Ok: boolean; Code?: string; Error?: string }[];
  };
}

export class FakeLotus {
  head = 1000;
  readonly workerId = "f0100";
  readonly workerKey: PrivateKey;
  readonly workerAddress: string;
  /** The node wallet's key (a sender whose key the manager does not hold). */
  readonly nodeKey = generatePrivateKey("secp256k1");
  readonly nodeAddress: string;
  readonly pool = new Map<string, LotusSignedMessage>();
  readonly included = new Map<string, Inclusion>();
  /** Every MpoolPush call that the pool accepted, in order. */
  readonly accepted: string[] = [];
  readonly pushCalls: string[] = [];
  readonly pushMessageCalls: { uuid?: string }[] = [];
  readonly uuids = new Map<string, LotusSignedMessage>();
  readonly randomnessCalls: { tag: number; epoch: number }[] = [];
  readonly deals = new Map<number, { pieceCid: string; size: number }>();
  readonly chainNonce = new Map<string, number>();
  estimate = { gasLimit: 1_000_000, gasFeeCap: 100_000n, gasPremium: 1_000n };
  lookback = 20;
  private server?: RunningServer;

  constructor(workerKey: PrivateKey) {
    this.workerKey = workerKey;
    this.workerAddress = keyAddress(workerKey, "mainnet").string;
    this.nodeAddress = keyAddress(this.nodeKey, "mainnet").string;
  }

  registry(): RpcRegistry {
    const r = new RpcRegistry();
    r.implement(LotusApi.ChainHead, () => ({
      Cids: [{ "/": `bafyhead${this.head}` }],
      Blocks: [{ Miner: "f01000", Height: this.head, Timestamp: this.head * 30, ParentBaseFee: "100" }],
      Height: this.head,
    }));
    r.implement(LotusApi.StateMinerInfo, () => ({
      Owner: this.workerId,
      Worker: this.workerId,
      ControlAddresses: [],
      WindowPoStProofType: 5,
      SectorSize: 2048,
      WindowPoStPartitionSectors: 2,
    }));
    r.implement(LotusApi.StateAccountKey, (addr) => {
      if (addr === this.workerId) return this.workerAddress;
      throw new RpcError(1, `actor ${addr} not found`);
    });
    r.implement(LotusApi.StateMinerProvingDeadline, () => ({
      CurrentEpoch: this.head,
      PeriodStart: 0,
      Index: 0,
      Open: 0,
      Close: 60,
      Challenge: -20,
      FaultCutoff: -70,
      WPoStPeriodDeadlines: 48,
      WPoStProvingPeriod: 2880,
      WPoStChallengeWindow: 60,
      WPoStChallengeLookback: this.lookback,
      FaultDeclarationCutoff: 70,
    }));
    r.implement(LotusApi.StateGetRandomnessFromTickets, (tag, epoch) => {
      this.randomnessCalls.push({ tag, epoch });
      return Buffer.alloc(32, (tag * 31 + epoch) & 0xff).toString("base64");
    });
    r.implement(LotusApi.StateMarketStorageDeal, (id) => {
      const deal = this.deals.get(id);
      if (!deal) throw new RpcError(1, `deal ${id} not found`);
      return {
        Proposal: {
          PieceCID: { "/": deal.pieceCid },
          PieceSize: deal.size,
          VerifiedDeal: false,
          Client: "f0200",
          Provider: "f01000",
          Label: "",
          StartEpoch: 2000,
          EndEpoch: 600_000,
          StoragePricePerEpoch: "0",
          ProviderCollateral: "0",
          ClientCollateral: "0",
        },
        State: { SectorStartEpoch: -1, LastUpdatedEpoch: -1, SlashEpoch: -1 },
      };
    });
    r.implement(LotusApi.GasEstimateMessageGas, (msg) => ({
      ...msg,
      GasLimit: this.estimate.gasLimit,
      GasFeeCap: this.estimate.gasFeeCap.toString(),
      GasPremium: this.estimate.gasPremium.toString(),
    }));
    r.implement(LotusApi.MpoolGetNonce, (addr) => this.nextNonce(addr));
    r.implement(LotusApi.MpoolPush, (signed) => ({ "/": this.add(signed) }));
    r.implement(LotusApi.MpoolPushMessage, (msg, spec) => {
      this.pushMessageCalls.push({ uuid: spec?.MsgUuid });
      const known = spec?.MsgUuid ? this.uuids.get(spec.MsgUuid) : undefined;
      if (known) return known;
      if (msg.From !== this.nodeAddress) throw new RpcError(1, `the node's wallet has no key for ${msg.From}`);
      const unsigned = { ...fromLotusMessage(msg), nonce: this.nextNonce(msg.From) };
      const signed = toLotusSignedMessage(signMessage(unsigned, this.nodeKey));
      this.add(signed);
      if (spec?.MsgUuid) this.uuids.set(spec.MsgUuid, signed);
      return signed;
    });
    r.implement(LotusApi.StateSearchMsg, (_tsk, cid) => {
      const inc = this.included.get(cid["/"]);
      if (!inc) return null;
      return {
        Message: { "/": inc.executed ?? cid["/"] },
        Receipt: { ExitCode: inc.exitCode, Return: null, GasUsed: 1000 },
        TipSet: [{ "/": `bafyhead${inc.height}` }],
        Height: inc.height,
        ...(inc.outcome ? { DevnetOutcome: inc.outcome } : {}),
      };
    });
    return r;
  }

  private nextNonce(addr: string): number {
    let next = this.chainNonce.get(addr) ?? 0;
    const taken = new Set([...this.pool.values()].filter((m) => m.Message.From === addr).map((m) => m.Message.Nonce));
    while (taken.has(next)) next++;
    return next;
  }

  /** Lotus's pool: a valid signature, a nonce not below the chain's, no second identical message. */
  private add(signed: LotusSignedMessage): string {
    const msg = fromLotusSignedMessage(signed);
    const cid = signedMessageCid(msg).toString();
    this.pushCalls.push(cid);
    if (!verifySignedMessage(msg)) throw new RpcError(1, "signature verification failed");
    if (msg.message.nonce < (this.chainNonce.get(msg.message.from) ?? 0)) throw new RpcError(1, "nonce too low");
    if (this.pool.has(cid)) throw new RpcError(1, "message already in mpool");
    this.pool.set(cid, signed);
    this.accepted.push(cid);
    return cid;
  }

  /** Executes a pooled message at `height` (default the head). */
  include(cid: string, inc: Partial<Inclusion> = {}): void {
    const signed = this.pool.get(cid);
    if (signed) {
      const from = signed.Message.From;
      this.chainNonce.set(from, Math.max(this.chainNonce.get(from) ?? 0, signed.Message.Nonce + 1));
    }
    this.included.set(cid, { height: this.head, exitCode: 0, ...inc });
  }

  /** The message leaves the chain (and the pool: the node lost it). */
  reorg(cid: string): void {
    this.included.delete(cid);
    const signed = this.pool.get(cid);
    this.pool.delete(cid);
    if (signed) this.chainNonce.set(signed.Message.From, signed.Message.Nonce);
  }

  start(): string {
    const registry = this.registry();
    this.server = serve({
      app: mountRpc(new Hono(), registry, openAuthenticator, "/rpc/v1"),
      registry,
      auth: openAuthenticator,
      hostname: "127.0.0.1",
      port: 0,
      path: "/rpc/v1",
    });
    return `${this.server.url}/rpc/v1`;
  }

  client(): RpcClient {
    if (!this.server) this.start();
    return new RpcClient(`${this.server!.url}/rpc/v1`);
  }

  async stop(): Promise<void> {
    await this.server?.stop();
  }
}
