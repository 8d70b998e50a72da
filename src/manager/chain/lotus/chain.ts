import * as v from "valibot";
import { DEVNET_NETWORK_PREFIX, DevnetApi, LotusApi, LotusErrorCode } from "../../../core/chain/lotus-api.ts";
import { childLogger } from "../../../core/log/index.ts";
import { RpcCallError, type RpcClient, RpcErrorCode } from "../../../core/rpc/index.ts";
import { RejectionCodeSchema } from "../../../core/sector/api-chain.ts";
import {
  type BlockRecord,
  type Chain,
  type ChainHead,
  type ChainMessage,
  type ChainPolicy,
  type DeadlineInfo,
  type DeadlineState,
  type DealProposalParams,
  DealRejectedError,
  type FaultRecord,
  type MessageLookup,
  type MinerInfo,
  type MinerPower,
  type OnChainDeal,
  type OnChainPreCommit,
  type OnChainSector,
  type PoStRecord,
  type ProvingPartition,
  type ProvingSector,
  type ProvingStats,
} from "../../../core/sector/chain.ts";
import { submitBlockThroughNode } from "./blocks.ts";
import {
  bitfieldMembers,
  DomainSeparationTag,
  deadlineFromLotus,
  dealFromLotus,
  headFromTipSet,
  minerAddress,
  minerEntropy,
  minerInfoFromLotus,
  preCommitFromLotus,
  provingSectorFromLotus,
  randomnessBytes,
  sectorFromLotus,
} from "./convert.ts";
import { LotusChainError } from "./errors.ts";
import { minerPartitionCounts, provingPartitionsOf } from "./proving.ts";

const log = childLogger("lotus-chain");

/** The message side of the chain (MessageSender in sender.ts): signing, pushing and following messages. */
export interface MessagePort {
  push(msg: ChainMessage): Promise<string>;
  lookup(id: string): Promise<MessageLookup | undefined>;
}

export interface LotusChainDeps {
  client: RpcClient;
  /** StateNetworkName; a name starting with DEVNET_NETWORK_PREFIX unlocks the Devnet.* methods. */
  networkName: string;
  /** Read once at connect: policy() is synchronous. */
  policy: ChainPolicy;
  /** The miner actors this manager runs (listMiners). */
  miners: readonly number[];
  messages: MessagePort;
  /**
   * New heads pushed by the node (ChainNotify's job): a node hosted in this process calls back at each
   * processed epoch, so nothing polls. Without it, start() polls ChainHead.
   */
  heads?: HeadSubscription;
}

/** Subscribes to the node's new head heights; answers how to unsubscribe. */
export type HeadSubscription = (listener: (epoch: number) => void) => () => void;

const ZERO_STATS: ProvingStats = {
  windowPoStsVerified: 0,
  windowPoStsRejected: 0,
  faultsDeclared: 0,
  faultsDetected: 0,
  recoveries: 0,
  deadlinesMissed: 0,
  blocksMined: 0,
  winningPoStsRejected: 0,
};

const DealRefusalSchema = v.union([RejectionCodeSchema, v.looseObject({ code: RejectionCodeSchema })]);

/** The devnet's refusal of a miner it does not have: our code in the error's data. */
const UnknownMinerDataSchema = v.looseObject({ code: v.literal("unknown-miner") });

/**
 * Not found, as a node says it: Lotus' ActorNotFound code, the devnet's unknown-miner code, or (older nodes,
 * and errors Lotus raises without a code, such as an unknown deal) the "not found" text. A missing method is
 * not "not found".
 */
function isNotFound(err: unknown): boolean {
  if (!(err instanceof RpcCallError) || err.code === RpcErrorCode.MethodNotFound) return false;
  if (err.code === LotusErrorCode.ActorNotFound || v.is(UnknownMinerDataSchema, err.data)) return true;
  return /not found/i.test(err.rpcMessage);
}

/**
 * The manager's chain over a Filecoin node's JSON-RPC API (Lotus, Venus, or the devnet serving the same
 * contract). Reads go to Filecoin.* methods and are converted in convert.ts; messages go through the
 * MessagePort. On a devnet, what only the devnet knows (PoSt judgements, elections, the test market) comes
 * from Devnet.*; on a real node those are read from state where they can be, or refused with a code.
 */
export class LotusChain implements Chain {
  readonly kind = "lotus";
  readonly networkName: string;
  readonly isDevnet: boolean;
  private readonly client: RpcClient;
  private readonly chainPolicy: ChainPolicy;
  private readonly miners: readonly number[];
  private readonly messages: MessagePort;
  private readonly listeners: ((epoch: number) => void)[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastHeight: number | undefined;
  private closed = false;
  private readonly heads: HeadSubscription | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(deps: LotusChainDeps) {
    this.heads = deps.heads;
    this.client = deps.client;
    this.networkName = deps.networkName;
    this.isDevnet = deps.networkName.startsWith(DEVNET_NETWORK_PREFIX);
    this.chainPolicy = deps.policy;
    this.miners = [...deps.miners];
    this.messages = deps.messages;
  }

  /** The node's RPC URL, for logs and messages. */
  get url(): string {
    return this.client.endpoint.http;
  }

  private addr(actor: number): string {
    return minerAddress(actor, this.networkName);
  }

  async head(): Promise<ChainHead> {
    return headFromTipSet(await this.client.call(LotusApi.ChainHead));
  }

  policy(): ChainPolicy {
    return this.chainPolicy;
  }

  async minerInfo(actor: number): Promise<MinerInfo | undefined> {
    try {
      return minerInfoFromLotus(actor, await this.client.call(LotusApi.StateMinerInfo, this.addr(actor), null));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async listMiners(): Promise<MinerInfo[]> {
    const infos = await Promise.all(this.miners.map((m) => this.minerInfo(m)));
    return infos.filter((i): i is MinerInfo => i !== undefined);
  }

  private async randomness(
    source: "tickets" | "beacon",
    tag: number,
    actor: number,
    epoch: number,
    forPoSt: boolean,
  ): Promise<Uint8Array> {
    const def = source === "tickets" ? LotusApi.StateGetRandomnessFromTickets : LotusApi.StateGetRandomnessFromBeacon;
    return randomnessBytes(await this.client.call(def, tag, epoch, minerEntropy(actor), null), def.name, forPoSt);
  }

  ticketRandomness(actor: number, epoch: number): Promise<Uint8Array> {
    return this.randomness("tickets", DomainSeparationTag.SealRandomness, actor, epoch, false);
  }

  interactiveSeedRandomness(actor: number, epoch: number): Promise<Uint8Array> {
    return this.randomness("beacon", DomainSeparationTag.InteractiveSealChallengeSeed, actor, epoch, false);
  }

  windowPoStRandomness(actor: number, epoch: number): Promise<Uint8Array> {
    return this.randomness("beacon", DomainSeparationTag.WindowedPoStChallengeSeed, actor, epoch, true);
  }

  winningPoStRandomness(actor: number, epoch: number): Promise<Uint8Array> {
    return this.randomness("beacon", DomainSeparationTag.WinningPoStChallengeSeed, actor, epoch, true);
  }

  pushMessage(msg: ChainMessage): Promise<string> {
    return this.messages.push(msg);
  }

  messageLookup(cid: string): Promise<MessageLookup | undefined> {
    return this.messages.lookup(cid);
  }

  async preCommitInfo(actor: number, number: number): Promise<OnChainPreCommit | undefined> {
    const pc = await this.client.call(LotusApi.StateSectorPreCommitInfo, this.addr(actor), number, null);
    return pc ? preCommitFromLotus(pc) : undefined;
  }

  async sectorInfo(actor: number, number: number): Promise<OnChainSector | undefined> {
    const [info, location] = await Promise.all([
      this.client.call(LotusApi.StateSectorGetInfo, this.addr(actor), number, null),
      this.client.call(LotusApi.StateSectorPartition, this.addr(actor), number, null),
    ]);
    if (!info) return undefined;
    if (!location) {
      // A sector whose info remains but which sits in no partition (terminated, not yet compacted).
      return undefined;
    }
    return sectorFromLotus(info, location);
  }

  isSectorNumberAllocated(actor: number, number: number): Promise<boolean> {
    return this.client.call(LotusApi.StateMinerSectorAllocated, this.addr(actor), number, null);
  }

  async provingDeadline(actor: number): Promise<DeadlineInfo> {
    return deadlineFromLotus(await this.client.call(LotusApi.StateMinerProvingDeadline, this.addr(actor), null));
  }

  async deadlines(actor: number): Promise<DeadlineState[]> {
    const addr = this.addr(actor);
    const dls = await this.client.call(LotusApi.StateMinerDeadlines, addr, null);
    return Promise.all(
      dls.map(async (_, index) => {
        const parts = (await this.client.call(LotusApi.StateMinerPartitions, addr, index, null)) ?? [];
        return {
          index,
          partitions: parts.map((p, i) => bitfieldMembers(p.AllSectors, `deadline ${index} partition ${i}`)),
        };
      }),
    );
  }

  async minerPower(actor: number): Promise<MinerPower> {
    const [power, counts] = await Promise.all([
      this.client.call(LotusApi.StateMinerPower, this.addr(actor), null),
      minerPartitionCounts(this.client, this.addr(actor)),
    ]);
    return { rawBytes: Number(BigInt(power.MinerPower.RawBytePower)), ...counts };
  }

  async publishDeal(proposal: DealProposalParams): Promise<OnChainDeal> {
    if (!this.isDevnet) {
      throw new LotusChainError(
        "not-supported",
        `the chain node (network ${this.networkName}) takes deals from its market, not from damocles: publish deals with Boost`,
      );
    }
    try {
      return await this.client.call(DevnetApi.PublishDeal, proposal);
    } catch (err) {
      if (err instanceof RpcCallError) {
        const refusal = v.safeParse(DealRefusalSchema, err.data);
        if (refusal.success) {
          const code = typeof refusal.output === "string" ? refusal.output : refusal.output.code;
          throw new DealRejectedError(code, err.rpcMessage);
        }
      }
      throw err;
    }
  }

  async marketDeal(id: number): Promise<OnChainDeal | undefined> {
    try {
      const [deal, head] = await Promise.all([
        this.client.call(LotusApi.StateMarketStorageDeal, id, null),
        this.head(),
      ]);
      return dealFromLotus(id, deal, head.epoch);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  provingPartitions(actor: number, open: number): Promise<ProvingPartition[]> {
    return provingPartitionsOf(this.client, this.addr(actor), open);
  }

  /**
   * Only the devnet answers elections: on a real network the election is the worker key's VRF over the
   * epoch's beacon, which the manager's keystore may not hold (the node's wallet signs), so lotus-miner
   * keeps that job there.
   */
  async isElected(actor: number, epoch: number): Promise<boolean> {
    this.devnetOnly("elections (block production)");
    return this.client.call(DevnetApi.IsElected, this.addr(actor), epoch);
  }

  async winningSectorSet(actor: number, epoch: number): Promise<ProvingSector[]> {
    const addr = this.addr(actor);
    const base = await this.client.call(LotusApi.MinerGetBaseInfo, addr, epoch, null);
    if (!base?.Sectors) return [];
    // MinerGetBaseInfo's sectors carry no sector key: whether each replica is an update comes from its info.
    return Promise.all(
      base.Sectors.map(async (s) => {
        const info = await this.client.call(LotusApi.StateSectorGetInfo, addr, s.SectorNumber, null);
        return provingSectorFromLotus({ ...s, SectorKeyCID: info?.SectorKeyCID });
      }),
    );
  }

  async submitBlock(
    actor: number,
    epoch: number,
    proofs: { postProof: number; proof: string }[],
  ): Promise<BlockRecord> {
    return submitBlockThroughNode(this.client, this.chainPolicy.blockTimeMs, this.addr(actor), actor, epoch, proofs);
  }

  async faults(actor: number): Promise<FaultRecord[]> {
    if (this.isDevnet) return this.client.call(DevnetApi.Faults, this.addr(actor));
    // A real chain keeps the faulty set, not when or why each sector became faulty.
    const runs = await this.client.call(LotusApi.StateMinerFaults, this.addr(actor), null);
    return bitfieldMembers(runs, "StateMinerFaults").map((number) => ({
      number,
      since: -1,
      kind: "detected" as const,
      reason: "faulty on chain (StateMinerFaults)",
    }));
  }

  async postRecords(actor: number, limit = 100): Promise<PoStRecord[]> {
    // A real chain keeps no per-deadline judgement records; the poster keeps its own.
    if (!this.isDevnet) return [];
    return this.client.call(DevnetApi.PoStRecords, this.addr(actor), limit);
  }

  async provingStats(actor: number): Promise<ProvingStats> {
    if (!this.isDevnet) return { ...ZERO_STATS };
    return this.client.call(DevnetApi.ProvingStats, this.addr(actor));
  }

  private devnetOnly(what: string): void {
    if (!this.isDevnet) {
      throw new LotusChainError(
        "not-supported",
        `${what} through a Lotus node (network ${this.networkName}) is not supported yet; run the miner's block production with lotus-miner`,
      );
    }
  }

  /** Called once per new head height, in order, while start()ed. */
  onEpoch(listener: (epoch: number) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Follows the node's head: through the node's own notifications when it pushes them, else by polling
   * ChainHead every half block time (at least 50 ms). Listeners hear of each new height once, in order.
   */
  start(): void {
    if (this.timer || this.unsubscribe || this.closed) return;
    if (this.heads) {
      this.unsubscribe = this.heads((epoch) => {
        if (this.lastHeight !== undefined && epoch <= this.lastHeight) return;
        this.lastHeight = epoch;
        this.notify(epoch);
      });
      return;
    }
    const every = Math.max(50, Math.floor(this.chainPolicy.blockTimeMs / 2));
    // A node that is down is said once, and its return once, not at every poll.
    let failing = false;
    const poll = async (): Promise<void> => {
      try {
        const { epoch } = await this.head();
        if (failing) log.info(`the chain node answers again (ChainHead at ${epoch})`);
        failing = false;
        if (this.lastHeight === undefined || epoch > this.lastHeight) {
          this.lastHeight = epoch;
          this.notify(epoch);
        }
      } catch (err) {
        if (!failing) log.warn(`ChainHead poll failed (retrying every ${every} ms): ${(err as Error).message}`);
        failing = true;
      }
      if (!this.closed) this.timer = setTimeout(poll, every);
    };
    this.timer = setTimeout(poll, 0);
  }

  /** A listener's failure is its own: logged, and the others still hear of the epoch. */
  private notify(epoch: number): void {
    for (const listener of this.listeners) {
      try {
        listener(epoch);
      } catch (err) {
        log.error(`an epoch listener failed at epoch ${epoch}:`, err);
      }
    }
  }

  close(): void {
    this.closed = true;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.client.close();
  }
}
