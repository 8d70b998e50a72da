import { keyAddress, type PrivateKey, type SignedMessage } from "../core/chain/index.ts";
import { childLogger } from "../core/log/index.ts";
import type {
  BlockRecord,
  Chain,
  ChainHead,
  ChainMessage,
  ChainPolicy,
  DeadlineInfo,
  DeadlineState,
  DealProposalParams,
  FaultRecord,
  MessageLookup,
  MinerInfo,
  MinerPower,
  OnChainDeal,
  OnChainPreCommit,
  OnChainSector,
  PoStRecord,
  ProvingPartition,
  ProvingSector,
  ProvingStats,
} from "../core/sector/chain.ts";
import type { KVStore } from "../core/store/index.ts";
import { type Account, Accounts, DEVNET_NETWORK, devWorkerKey } from "./accounts.ts";
import { DevnetClock, deadlineAt } from "./clock.ts";
import type { DevnetSettings } from "./config.ts";
import { DevnetHistory } from "./history.ts";
import { DEVNET_BASE_FEE, MessageIntake } from "./intake.ts";
import { type SectorVerdicts, StorageMarket } from "./market.ts";
import { type DevnetMinerSpec, MinerActor, type PresealSector } from "./miner-actor.ts";
import { MessagePool } from "./mpool.ts";
import { proofsCommDCalculator } from "./proofs-verifier.ts";
import { type Beacon, deriveRandomness, type RandomnessDomain } from "./randomness.ts";
import { ReplicaUpdates } from "./replica-update.ts";
import { DevnetStore } from "./store.ts";
import {
  type CommDCalculator,
  type PoStVerifier,
  type SealVerifier,
  type UpdateVerifier,
  unavailablePoStVerifier,
  unavailableUpdateVerifier,
} from "./verifier.ts";
import { type PoStVerdict, WindowPoStJudge } from "./window-post.ts";
import { WinningPoStElections } from "./winning-post.ts";

export type { Beacon, DevnetMinerSpec, PresealSector };

const log = childLogger("devnet");

export interface DevnetOptions {
  store: KVStore;
  settings: DevnetSettings;
  verifier: SealVerifier;
  /** Verifies WindowPoSt/WinningPoSt; without one every PoSt submission is refused with the reason. */
  postVerifier?: PoStVerifier;
  /** Verifies ProveReplicaUpdates proofs; without one every replica update is refused as unverifiable. */
  updateVerifier?: UpdateVerifier;
  /** CommD of deal pieces for PreCommits that carry deals; default: the proofs library's compute_comm_d. */
  commD?: CommDCalculator;
  /** Applied once, when the sector's miner is created on this chain. */
  preseal?: PresealSector[];
  miners: DevnetMinerSpec[];
  /** Clock in unix ms; tests pass a controllable one. */
  now?: () => number;
  /**
   * The randomness beacon; default: sha256 of the chain seed (deriveRandomness). A test that holds a
   * sector sealed elsewhere injects one that answers that sector's ticket and seed.
   */
  beacon?: Beacon;
}

/**
 * The embedded devnet: a local chain persisted in the manager's store. Epochs follow the wall clock
 * (clock.ts); every epoch between the last processed one and the head is replayed on the next tick
 * (messages packed and landed, PreCommits expired, deadlines judged), so a restart continues exactly
 * where the chain left off. This class composes the jobs: the accounts (accounts.ts), the intake of signed
 * Filecoin messages (intake.ts), the message pool (mpool.ts), the miner actor's
 * sealing rules (miner-actor.ts), the storage market's deals (market.ts), SnapDeals replica updates
 * (replica-update.ts), WindowPoSt judging (window-post.ts)
 * and WinningPoSt elections (winning-post.ts), all on one validated store (store.ts), whose history
 * (history.ts) is kept for HistoryLifetime.
 */
export class DevnetChain implements Chain {
  readonly kind = "devnet";
  private readonly db: DevnetStore;
  private readonly clock: DevnetClock;
  private readonly beacon: Beacon;
  private readonly pool: MessagePool;
  private readonly accounts: Accounts;
  private readonly intake: MessageIntake;
  /** The dev keys of workers the configuration left out, by miner actor (accounts.ts). */
  private readonly devKeys = new Map<number, PrivateKey>();
  private readonly actor: MinerActor;
  private readonly market: StorageMarket;
  private readonly replicaUpdates: ReplicaUpdates;
  private readonly windowPoSt: WindowPoStJudge;
  private readonly winningPoSt: WinningPoStElections;
  private readonly history: DevnetHistory;
  private timer: ReturnType<typeof setInterval> | undefined;
  private ticking: Promise<void> | undefined;
  private readonly listeners: ((epoch: number) => void)[] = [];
  private notifiedEpoch = -1;

  constructor(private readonly opts: DevnetOptions) {
    const { settings } = opts;
    this.db = new DevnetStore(opts.store);
    this.clock = new DevnetClock(this.db, settings, opts.now ?? Date.now);
    const seed = this.clock.genesis.seed;
    this.beacon = opts.beacon ?? ((domain, actor, epoch) => deriveRandomness(seed, domain, actor, epoch));
    const postVerifier = opts.postVerifier ?? unavailablePoStVerifier("no PoSt verifier was given to this devnet");
    this.pool = new MessagePool(this.db, this.clock, settings);
    this.market = new StorageMarket(this.db, this.clock, opts.commD ?? proofsCommDCalculator());
    this.actor = new MinerActor(this.db, this.clock, settings, opts.verifier, this.beacon, this.market);
    this.replicaUpdates = new ReplicaUpdates(
      this.db,
      settings,
      opts.updateVerifier ?? unavailableUpdateVerifier("no replica update verifier was given to this devnet"),
      this.market,
    );
    this.windowPoSt = new WindowPoStJudge(this.db, settings, postVerifier, this.beacon);
    this.winningPoSt = new WinningPoStElections(this.db, this.clock, settings, postVerifier, this.beacon);
    this.accounts = new Accounts(this.db);
    this.intake = new MessageIntake(this.db, this.clock, settings, this.accounts, this.pool);
    this.history = new DevnetHistory(this.db, settings, this.pool, this.intake);
    // Sorted by actor so the worker accounts get the same IDs whatever the configuration's order.
    for (const m of [...opts.miners].sort((a, b) => a.actor - b.actor)) {
      this.actor.ensureMiner(m, opts.preseal ?? []);
      let worker = m.worker;
      if (worker === undefined) {
        const key = devWorkerKey(seed, m.actor);
        this.devKeys.set(m.actor, key);
        worker = keyAddress(key, DEVNET_NETWORK).string;
      }
      this.accounts.ensureWorker(m.actor, worker, settings.GenesisBalance);
    }
  }

  /** Starts the epoch clock; epochs are processed at least every half block. */
  start(): void {
    if (this.timer) return;
    const every = Math.max(10, Math.min(1000, Math.floor(this.clock.genesis.blockTimeMs / 2)));
    this.timer = setInterval(() => void this.tick().catch((err) => log.error("devnet tick failed:", err)), every);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Called after each processed epoch (the manager uses it to drive batching and metrics); returns the unsubscribe. */
  onEpoch(listener: (epoch: number) => void): () => void {
    this.listeners.push(listener);
    return () => {
      const at = this.listeners.indexOf(listener);
      if (at >= 0) this.listeners.splice(at, 1);
    };
  }

  headEpoch(): number {
    return this.clock.headEpoch();
  }

  processedEpoch(): number {
    return this.clock.processedEpoch();
  }

  async head(): Promise<ChainHead> {
    return this.clock.head();
  }

  policy(): ChainPolicy {
    const s = this.opts.settings;
    return {
      blockTimeMs: this.clock.genesis.blockTimeMs,
      preCommitChallengeDelay: s.PreCommitChallengeDelay,
      sealRandomnessLookback: s.SealRandomnessLookback,
      maxTicketAge: s.MaxTicketAge,
      maxProveCommitDuration: s.MaxProveCommitDuration,
      interactivePoRepConfidence: s.InteractivePoRepConfidence,
      wpostPeriodDeadlines: s.WPoStPeriodDeadlines,
      wpostChallengeWindow: s.WPoStChallengeWindow,
      wpostChallengeLookback: s.WPoStChallengeLookback,
      messageConfidence: s.MessageLandDelay,
    };
  }

  private randomness(domain: RandomnessDomain, actor: number, epoch: number): Uint8Array {
    const head = this.clock.headEpoch();
    if (epoch > head) throw new Error(`randomness for epoch ${epoch} is not available yet (head is ${head})`);
    if (epoch < 0) throw new Error(`no randomness before genesis (epoch ${epoch})`);
    return this.beacon(domain, actor, epoch);
  }

  async ticketRandomness(actor: number, epoch: number): Promise<Uint8Array> {
    return this.randomness("SealRandomness", actor, epoch);
  }

  async interactiveSeedRandomness(actor: number, epoch: number): Promise<Uint8Array> {
    return this.randomness("InteractiveSealChallengeSeed", actor, epoch);
  }

  async windowPoStRandomness(actor: number, epoch: number): Promise<Uint8Array> {
    return this.randomness("WindowedPoStChallengeSeed", actor, epoch);
  }

  async winningPoStRandomness(actor: number, epoch: number): Promise<Uint8Array> {
    return this.randomness("WinningPoStChallengeSeed", actor, epoch);
  }

  async pushMessage(msg: ChainMessage): Promise<string> {
    return this.pool.push(msg);
  }

  /**
   * A signed Filecoin message from an account (MpoolPush): checked like Lotus's pool checks it, refused
   * with a MessageRefusedError naming the field. Returns its CID; the same message again, the same CID.
   * `uuid`: MpoolPushMessage's MsgUuid, recorded in the transaction that pools the message.
   */
  pushSigned(signed: SignedMessage, uuid?: string): string {
    return this.intake.push(signed, uuid);
  }

  /** The message MpoolPushMessage signed for MsgUuid `uuid`, if it did. */
  signedByUuid(uuid: string): SignedMessage | undefined {
    return this.intake.signedByUuid(uuid);
  }

  /** The base fee, constant on the devnet (attoFIL). */
  baseFee(): bigint {
    return DEVNET_BASE_FEE;
  }

  /** The account behind an ID or key address (either network prefix). */
  account(address: string): Account | undefined {
    return this.accounts.resolve(address);
  }

  /** The nonce an account's next pushed message takes (pooled messages counted). */
  nextNonce(account: Account): number {
    return this.intake.nextNonce(account);
  }

  /** The miner's worker key address (t1…/t3…). */
  minerWorker(actor: number): string {
    const worker = this.accounts.workerOf(actor);
    if (!worker) throw new Error(`unknown miner t0${actor}: it has no worker on this devnet`);
    return worker.key;
  }

  /** The well-known dev key of the miner's worker; undefined when the configuration names a Worker. */
  devKey(actor: number): PrivateKey | undefined {
    return this.devKeys.get(actor);
  }

  /** The dev key of an account, when it is the worker of a miner configured without a Worker. */
  devKeyOf(account: Account): PrivateKey | undefined {
    for (const [actor, key] of this.devKeys) if (this.accounts.workerOf(actor)?.id === account.id) return key;
    return undefined;
  }

  /** The signed message's envelope as pooled (undefined for the internal path's messages). */
  signedEnvelope(cid: string) {
    return this.intake.envelope(cid);
  }

  /** An executed message and its gas; allowReplaced: the message that replaced `cid` by fee, if one did. */
  executedMessage(cid: string, allowReplaced: boolean): { lookup: MessageLookup; gasUsed: number } | undefined {
    return this.intake.executed(cid, allowReplaced);
  }

  async messageLookup(cid: string): Promise<MessageLookup | undefined> {
    return this.pool.lookup(cid);
  }

  /** Messages still to be executed or to land; for status displays. */
  pendingMessageCount(): { pending: number; packed: number } {
    return this.pool.counts();
  }

  async minerInfo(actor: number): Promise<MinerInfo | undefined> {
    return this.actor.minerInfo(actor);
  }

  async listMiners(): Promise<MinerInfo[]> {
    return this.actor.listMiners();
  }

  async preCommitInfo(actor: number, number: number): Promise<OnChainPreCommit | undefined> {
    return this.db.precommit(actor, number);
  }

  async sectorInfo(actor: number, number: number): Promise<OnChainSector | undefined> {
    return this.db.sector(actor, number);
  }

  async isSectorNumberAllocated(actor: number, number: number): Promise<boolean> {
    return this.actor.isSectorNumberAllocated(actor, number);
  }

  async deadlines(actor: number): Promise<DeadlineState[]> {
    return this.db.deadlines(actor);
  }

  async minerPower(actor: number): Promise<MinerPower> {
    return this.actor.minerPower(actor);
  }

  async publishDeal(proposal: DealProposalParams): Promise<OnChainDeal> {
    return this.market.publish(proposal);
  }

  async marketDeal(id: number): Promise<OnChainDeal | undefined> {
    return this.market.deal(id);
  }

  async provingDeadline(actor: number): Promise<DeadlineInfo> {
    const m = this.db.miner(actor);
    if (!m) throw new Error(`unknown miner f0${actor}`);
    return deadlineAt(this.opts.settings, m, this.clock.headEpoch());
  }

  async provingPartitions(actor: number, open: number): Promise<ProvingPartition[]> {
    return this.windowPoSt.provingPartitions(actor, open);
  }

  async faults(actor: number): Promise<FaultRecord[]> {
    return this.windowPoSt.faults(actor);
  }

  async postRecords(actor: number, limit = 100): Promise<PoStRecord[]> {
    return this.windowPoSt.postRecords(actor, limit);
  }

  async provingStats(actor: number): Promise<ProvingStats> {
    return this.windowPoSt.provingStats(actor);
  }

  async isElected(actor: number, epoch: number): Promise<boolean> {
    return this.winningPoSt.isElected(actor, epoch);
  }

  async winningSectorSet(actor: number, epoch: number): Promise<ProvingSector[]> {
    return this.winningPoSt.liveSectors(actor, epoch);
  }

  submitBlock(actor: number, epoch: number, proofs: { postProof: number; proof: string }[]): Promise<BlockRecord> {
    return this.winningPoSt.submitBlock(actor, epoch, proofs);
  }

  /** Processes every epoch up to the head. Concurrent calls share one run. */
  tick(): Promise<void> {
    if (!this.ticking) this.ticking = this.runTick().finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  private async runTick(): Promise<void> {
    const head = this.clock.wallEpoch();
    let processed = this.clock.processedEpoch();
    while (processed < head) {
      const next = this.nextEventEpoch(processed);
      const epoch = next === undefined || next > head ? head : Math.max(next, processed + 1);
      await this.processEpoch(epoch);
      processed = epoch;
    }
    if (processed === head && head !== this.notifiedEpoch) {
      this.history.onEpoch(head, this.clock.genesis.blockTimeMs);
      this.notifiedEpoch = head;
      for (const l of this.listeners) l(head);
    }
  }

  /** The first epoch after `after` at which something happens, so idle stretches are skipped in one step. */
  private nextEventEpoch(after: number): number | undefined {
    const candidates = [
      ...this.pool.nextEvents(after),
      ...this.actor.nextEvents(),
      ...this.market.nextEvents(),
      ...this.windowPoSt.nextEvents(after),
    ];
    if (candidates.length === 0) return undefined;
    return Math.max(after + 1, Math.min(...candidates));
  }

  private async processEpoch(epoch: number): Promise<void> {
    const due = this.pool.due(epoch);
    // Proofs are verified asynchronously (native, off the JS thread), before the epoch's transaction;
    // nothing else changes the chain meanwhile because ticks are serialised.
    const sealVerdicts = new Map<string, SectorVerdicts>();
    const postVerdicts = new Map<string, PoStVerdict>();
    for (const m of due) {
      if (m.message.method === "ProveCommitSectors3")
        sealVerdicts.set(m.cid, await this.actor.checkProveCommits(m.message, epoch));
      if (m.message.method === "PreCommitSectorBatch2")
        sealVerdicts.set(m.cid, await this.market.checkPreCommitData(m.message));
      if (m.message.method === "ProveReplicaUpdates")
        sealVerdicts.set(m.cid, await this.replicaUpdates.check(m.message));
    }
    for (const m of due) {
      if (m.message.method === "SubmitWindowedPoSt")
        postVerdicts.set(m.cid, await this.windowPoSt.check(m.message, epoch));
    }

    const landed = this.db.transaction(() => {
      for (const m of due) {
        const msg = m.message;
        const outcome =
          this.intake.authorize(m, (actor) => this.accounts.workerOf(actor)?.id) ??
          (msg.method === "SubmitWindowedPoSt"
            ? this.windowPoSt.execute(m, msg, epoch, postVerdicts.get(m.cid)!)
            : msg.method === "ProveReplicaUpdates"
              ? this.replicaUpdates.execute(msg, epoch, sealVerdicts.get(m.cid))
              : this.actor.execute(msg, epoch, sealVerdicts.get(m.cid)));
        this.pool.settle(m, epoch, outcome);
        this.intake.charge(m, outcome);
      }
      const landed = this.pool.land(epoch);
      this.actor.expirePreCommits(epoch);
      this.market.expireDeals(epoch);
      this.windowPoSt.closeDeadlines(epoch);
      this.db.putProcessed(epoch);
      return landed;
    });
    for (const m of landed) log.debug(`message ${m.cid} landed at epoch ${epoch}`);
  }
}
