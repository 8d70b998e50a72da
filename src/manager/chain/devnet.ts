import { createHash } from "node:crypto";
import { childLogger } from "../../core/log/index.ts";
import {
  sealProofFor,
  sealProofInfo,
  windowPoStPartitionSectors,
  windowPoStProofFor,
  winningPoStProofFor,
} from "../../core/sector/index.ts";
import type { Collection, KVStore } from "../../core/store/index.ts";
import {
  type BlockRecord,
  type Chain,
  type ChainHead,
  type ChainMessage,
  type ChainPolicy,
  type DeadlineInfo,
  type DeadlineOutcome,
  type DeadlineState,
  ExitCode,
  type FaultRecord,
  type MessageLookup,
  type MinerInfo,
  type MinerPower,
  messageId,
  type OnChainPreCommit,
  type OnChainSector,
  type PoStMessage,
  type PoStRecord,
  type PreCommitParams,
  type ProveCommitParams,
  type ProvingPartition,
  type ProvingSector,
  type ProvingStats,
  type SectorResult,
} from "./chain.ts";
import type { DevnetSettings } from "./devnet-config.ts";
import { deriveRandomness, type RandomnessDomain } from "./randomness.ts";
import { InvalidProofError, type PoStVerifier, type SealVerifier, unavailablePoStVerifier } from "./verifier.ts";

const log = childLogger("devnet");

/** Sector lifetime on the devnet: 540 days of 30 s mainnet epochs, counted in epochs. */
const SECTOR_LIFETIME_EPOCHS = 540 * 2880;

interface Genesis {
  seed: string;
  /** The epoch/time pair epochs are counted from; moved when BlockTime changes. */
  anchorEpoch: number;
  anchorTime: number;
  blockTimeMs: number;
  createdAt: number;
}

interface StoredMiner extends MinerInfo {
  /** Offset of the miner's proving period within the period length (as the chain assigns it). */
  periodOffset: number;
}

export interface DevnetMinerSpec {
  actor: number;
  sectorSize: number;
}

/** A sector sealed before genesis (lotus-seed's pre-seal): active from the miner's creation. */
export interface PresealSector {
  actor: number;
  number: number;
  sealProof: number;
  commR: number[];
}

export interface DevnetOptions {
  store: KVStore;
  settings: DevnetSettings;
  verifier: SealVerifier;
  /** Verifies WindowPoSt/WinningPoSt; without one every PoSt submission is refused with the reason. */
  postVerifier?: PoStVerifier;
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

export type Beacon = (domain: RandomnessDomain, actor: number, epoch: number) => Uint8Array;

const K = {
  genesis: "genesis",
  processed: "processed",
  miner: (a: number) => `miner/${a}`,
  msg: (cid: string) => `msg/${cid}`,
  mpool: (cid: string) => `mpool/${cid}`,
  packed: (cid: string) => `packed/${cid}`,
  allocated: (a: number, n: number) => `allocated/${a}/${n}`,
  precommit: (a: number, n: number) => `precommit/${a}/${n}`,
  sector: (a: number, n: number) => `sector/${a}/${n}`,
  deadlines: (a: number) => `deadlines/${a}`,
  fault: (a: number, n: number) => `fault/${a}/${n}`,
  post: (a: number, open: number) => `post/${a}/${pad(open)}`,
  closedThrough: (a: number) => `post-closed/${a}`,
  stats: (a: number) => `stats/${a}`,
  block: (a: number, epoch: number) => `block/${a}/${pad(epoch)}`,
};

/** Epochs in keys are zero-padded so a prefix scan returns them in order. */
function pad(epoch: number): string {
  return String(epoch).padStart(12, "0");
}

const EMPTY_STATS: ProvingStats = {
  windowPoStsVerified: 0,
  windowPoStsRejected: 0,
  faultsDeclared: 0,
  faultsDetected: 0,
  recoveries: 0,
  deadlinesMissed: 0,
  blocksMined: 0,
  winningPoStsRejected: 0,
};

interface Verdict {
  ok: boolean;
  error?: string;
}

/**
 * The embedded devnet: a local chain persisted in the manager's store. Epochs follow the wall clock
 * (BlockTime), so the chain moves on while the manager is down, like a real one; every epoch between
 * the last processed one and the head is replayed on the next tick (messages packed and landed,
 * PreCommits expired), so a restart continues exactly where the chain left off.
 *
 * It is strict: PreCommits are checked (sector number, ticket age, proof type) and every ProveCommit is
 * verified with verify_seal against the ticket and seed this chain handed out.
 */
export class DevnetChain implements Chain {
  readonly kind = "devnet";
  private readonly kv: Collection;
  private readonly now: () => number;
  private readonly genesis: Genesis;
  private timer: ReturnType<typeof setInterval> | undefined;
  private ticking: Promise<void> | undefined;
  private readonly listeners: ((epoch: number) => void)[] = [];
  private readonly beacon: Beacon;
  private readonly postVerifier: PoStVerifier;
  private notifiedEpoch = -1;

  constructor(private readonly opts: DevnetOptions) {
    this.kv = opts.store.collection("chain");
    this.now = opts.now ?? Date.now;
    this.genesis = this.loadGenesis();
    this.beacon = opts.beacon ?? ((domain, actor, epoch) => deriveRandomness(this.genesis.seed, domain, actor, epoch));
    this.postVerifier = opts.postVerifier ?? unavailablePoStVerifier("no PoSt verifier was given to this devnet");
    for (const m of opts.miners) this.ensureMiner(m);
  }

  private loadGenesis(): Genesis {
    const { settings } = this.opts;
    const stored = this.kv.getJSON<Genesis>(K.genesis);
    const now = this.now();
    if (!stored) {
      const g: Genesis = {
        seed: settings.Seed,
        anchorEpoch: 0,
        anchorTime: now,
        blockTimeMs: settings.BlockTime,
        createdAt: now,
      };
      this.kv.putJSON(K.genesis, g);
      log.info(`devnet genesis: seed "${g.seed}", block time ${g.blockTimeMs} ms`);
      return g;
    }
    if (stored.seed !== settings.Seed) {
      log.warn(
        `[Common.Devnet] Seed "${settings.Seed}" differs from this chain's genesis seed "${stored.seed}"; keeping "${stored.seed}" (changing it would invalidate every ticket and seed)`,
      );
    }
    if (stored.blockTimeMs !== settings.BlockTime) {
      const epoch = this.epochAt(stored, now);
      const moved: Genesis = { ...stored, anchorEpoch: epoch, anchorTime: now, blockTimeMs: settings.BlockTime };
      this.kv.putJSON(K.genesis, moved);
      log.info(`devnet block time changed ${stored.blockTimeMs} ms → ${settings.BlockTime} ms at epoch ${epoch}`);
      return moved;
    }
    return stored;
  }

  private epochAt(g: Genesis, time: number): number {
    return g.anchorEpoch + Math.max(0, Math.floor((time - g.anchorTime) / g.blockTimeMs));
  }

  private ensureMiner(spec: DevnetMinerSpec): void {
    const existing = this.kv.getJSON<StoredMiner>(K.miner(spec.actor));
    if (existing) {
      if (existing.sectorSize !== spec.sectorSize) {
        log.warn(
          `devnet miner ${spec.actor} was created with sector size ${existing.sectorSize} bytes; ignoring the configured ${spec.sectorSize}`,
        );
      }
      return;
    }
    const sealProofType = sealProofFor(spec.sectorSize);
    const period = this.provingPeriod();
    const offsetDigest = createHash("sha256").update(`${this.genesis.seed}/period/${spec.actor}`).digest();
    const miner: StoredMiner = {
      actor: spec.actor,
      sectorSize: spec.sectorSize,
      sealProofType,
      windowPoStProofType: windowPoStProofFor(sealProofType),
      periodOffset: offsetDigest.readUInt32LE(0) % period,
    };
    const head = this.headEpoch();
    const preseal = (this.opts.preseal ?? []).filter((p) => p.actor === spec.actor).sort((a, b) => a.number - b.number);
    this.opts.store.transaction(() => {
      this.kv.putJSON(K.miner(spec.actor), miner);
      const dls = Array.from(
        { length: this.opts.settings.WPoStPeriodDeadlines },
        (_, index): DeadlineState => ({ index, partitions: [] }),
      );
      for (const p of preseal) {
        if (p.sealProof !== sealProofType)
          throw new Error(
            `pre-sealed sector ${p.number} of f0${spec.actor} has seal proof ${p.sealProof}, the miner uses ${sealProofType}`,
          );
        if (p.commR.length !== 32)
          throw new Error(`pre-sealed sector ${p.number} of f0${spec.actor}: CommR must be 32 bytes`);
        const { deadline, partition } = this.assignDeadline(miner, dls, p.sealProof, head, p.number);
        this.kv.put(K.allocated(spec.actor, p.number), "");
        this.kv.putJSON(K.sector(spec.actor, p.number), {
          number: p.number,
          sealProof: p.sealProof,
          commR: p.commR,
          activation: head,
          expiration: head + SECTOR_LIFETIME_EPOCHS,
          deadline,
          partition,
        } satisfies OnChainSector);
      }
      this.kv.putJSON(K.deadlines(spec.actor), dls);
      this.kv.putJSON(K.closedThrough(spec.actor), head);
    });
    log.info(
      `devnet miner f0${spec.actor} created: ${sealProofInfo(sealProofType).name}${preseal.length ? `, ${preseal.length} pre-sealed sector(s)` : ""}`,
    );
  }

  private provingPeriod(): number {
    return this.opts.settings.WPoStPeriodDeadlines * this.opts.settings.WPoStChallengeWindow;
  }

  /** Starts the epoch clock; epochs are processed at least every half block. */
  start(): void {
    if (this.timer) return;
    const every = Math.max(10, Math.min(1000, Math.floor(this.genesis.blockTimeMs / 2)));
    this.timer = setInterval(() => void this.tick().catch((err) => log.error("devnet tick failed:", err)), every);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Called after each processed epoch (the manager uses it to drive batching and metrics). */
  onEpoch(listener: (epoch: number) => void): void {
    this.listeners.push(listener);
  }

  headEpoch(): number {
    return Math.max(this.epochAt(this.genesis, this.now()), this.processedEpoch());
  }

  processedEpoch(): number {
    return this.kv.getJSON<number>(K.processed) ?? 0;
  }

  async head(): Promise<ChainHead> {
    const epoch = this.headEpoch();
    return {
      epoch,
      timestamp: this.genesis.anchorTime + (epoch - this.genesis.anchorEpoch) * this.genesis.blockTimeMs,
    };
  }

  policy(): ChainPolicy {
    const s = this.opts.settings;
    return {
      blockTimeMs: this.genesis.blockTimeMs,
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

  async minerInfo(actor: number): Promise<MinerInfo | undefined> {
    const m = this.kv.getJSON<StoredMiner>(K.miner(actor));
    return (
      m && {
        actor: m.actor,
        sectorSize: m.sectorSize,
        sealProofType: m.sealProofType,
        windowPoStProofType: m.windowPoStProofType,
      }
    );
  }

  private randomness(domain: RandomnessDomain, actor: number, epoch: number): Uint8Array {
    const head = this.headEpoch();
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

  async pushMessage(msg: ChainMessage): Promise<string> {
    return this.pushMessageSync(msg);
  }

  /** Synchronous push, usable inside a store transaction of the caller. */
  pushMessageSync(msg: ChainMessage): string {
    const cid = messageId(msg);
    if (this.kv.has(K.msg(cid))) return cid;
    if (!this.kv.has(K.miner(msg.from))) throw new Error(`message from unknown miner f0${msg.from}`);
    const record: MessageLookup = { cid, message: msg, status: "pending", pushedEpoch: this.headEpoch() };
    this.opts.store.transaction(() => {
      this.kv.putJSON(K.msg(cid), record);
      this.kv.put(K.mpool(cid), "");
    });
    log.debug(`message ${cid} pushed: ${msg.method} of f0${msg.from}`);
    return cid;
  }

  async messageLookup(cid: string): Promise<MessageLookup | undefined> {
    return this.kv.getJSON<MessageLookup>(K.msg(cid));
  }

  async preCommitInfo(actor: number, number: number): Promise<OnChainPreCommit | undefined> {
    return this.kv.getJSON<OnChainPreCommit>(K.precommit(actor, number));
  }

  async sectorInfo(actor: number, number: number): Promise<OnChainSector | undefined> {
    return this.kv.getJSON<OnChainSector>(K.sector(actor, number));
  }

  async isSectorNumberAllocated(actor: number, number: number): Promise<boolean> {
    return this.kv.has(K.allocated(actor, number));
  }

  async provingDeadline(actor: number): Promise<DeadlineInfo> {
    const m = this.kv.getJSON<StoredMiner>(K.miner(actor));
    if (!m) throw new Error(`unknown miner f0${actor}`);
    return this.deadlineAt(m, this.headEpoch());
  }

  private deadlineAt(m: StoredMiner, epoch: number): DeadlineInfo {
    const period = this.provingPeriod();
    const w = this.opts.settings.WPoStChallengeWindow;
    const periodStart = m.periodOffset + Math.floor((epoch - m.periodOffset) / period) * period;
    const index = Math.floor((epoch - periodStart) / w);
    const open = periodStart + index * w;
    return {
      currentEpoch: epoch,
      periodStart,
      index,
      open,
      close: open + w,
      challenge: open - this.opts.settings.WPoStChallengeLookback,
    };
  }

  async listMiners(): Promise<MinerInfo[]> {
    return this.kv.scanJSON<StoredMiner>("miner/").map(({ value: m }) => ({
      actor: m.actor,
      sectorSize: m.sectorSize,
      sealProofType: m.sealProofType,
      windowPoStProofType: m.windowPoStProofType,
    }));
  }

  async deadlines(actor: number): Promise<DeadlineState[]> {
    return this.kv.getJSON<DeadlineState[]>(K.deadlines(actor)) ?? [];
  }

  async minerPower(actor: number): Promise<MinerPower> {
    const m = this.kv.getJSON<StoredMiner>(K.miner(actor));
    if (!m) return { rawBytes: 0, activeSectors: 0, faultySectors: 0 };
    const active = this.kv.count(`sector/${actor}/`);
    const faulty = this.kv.count(`fault/${actor}/`);
    return { rawBytes: (active - faulty) * m.sectorSize, activeSectors: active, faultySectors: faulty };
  }

  /** Messages still to be executed or to land; for status displays. */
  pendingMessageCount(): { pending: number; packed: number } {
    return { pending: this.kv.count("mpool/"), packed: this.kv.count("packed/") };
  }

  /** Processes every epoch up to the head. Concurrent calls share one run. */
  tick(): Promise<void> {
    if (!this.ticking) this.ticking = this.runTick().finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  private async runTick(): Promise<void> {
    const head = this.epochAt(this.genesis, this.now());
    let processed = this.processedEpoch();
    while (processed < head) {
      const next = this.nextEventEpoch(processed);
      const epoch = next === undefined || next > head ? head : Math.max(next, processed + 1);
      await this.processEpoch(epoch);
      processed = epoch;
    }
    if (processed === head && head !== this.notifiedEpoch) {
      this.notifiedEpoch = head;
      for (const l of this.listeners) l(head);
    }
  }

  private loadIndexed(prefix: string): MessageLookup[] {
    return this.kv
      .scan(prefix)
      .map((e) => this.kv.getJSON<MessageLookup>(K.msg(e.key.slice(prefix.length))))
      .filter((m): m is MessageLookup => m !== undefined);
  }

  /** The first epoch after `after` at which something happens, so idle stretches are skipped in one step. */
  private nextEventEpoch(after: number): number | undefined {
    const s = this.opts.settings;
    const candidates: number[] = [];
    for (const m of this.loadIndexed("mpool/")) candidates.push(m.pushedEpoch + s.MessagePackDelay);
    for (const m of this.loadIndexed("packed/")) candidates.push((m.packedEpoch ?? after) + s.MessageLandDelay);
    for (const e of this.kv.scan("precommit/")) {
      const pc = JSON.parse(e.value) as OnChainPreCommit;
      candidates.push(pc.preCommitEpoch + s.MaxProveCommitDuration + 1);
    }
    // Deadlines close whether or not anyone proves them: a miner with sectors is judged at every close.
    for (const { value: m } of this.kv.scanJSON<StoredMiner>("miner/")) {
      if (this.kv.count(`sector/${m.actor}/`) > 0) candidates.push(this.deadlineAt(m, after).close);
    }
    if (candidates.length === 0) return undefined;
    return Math.max(after + 1, Math.min(...candidates));
  }

  private async processEpoch(epoch: number): Promise<void> {
    const s = this.opts.settings;
    const due = this.loadIndexed("mpool/")
      .filter((m) => m.pushedEpoch + s.MessagePackDelay <= epoch)
      .sort((a, b) => a.pushedEpoch - b.pushedEpoch || a.message.nonce - b.message.nonce);

    // Proof verification is asynchronous (native, off the JS thread), so it runs before the epoch's
    // transaction; nothing else changes PreCommits meanwhile because ticks are serialised.
    const proofVerdicts = new Map<string, Map<number, SectorResult>>();
    for (const m of due) {
      if (m.message.method !== "ProveCommitSectors3") continue;
      const verdicts = new Map<number, SectorResult>();
      for (const sector of m.message.sectors)
        verdicts.set(sector.number, await this.checkProveCommit(m.message.from, sector, epoch));
      proofVerdicts.set(m.cid, verdicts);
    }
    const postVerdicts = new Map<string, Verdict>();
    for (const m of due) {
      if (m.message.method === "SubmitWindowedPoSt")
        postVerdicts.set(m.cid, await this.checkWindowPoSt(m.message, epoch));
    }

    const landed: MessageLookup[] = [];
    this.opts.store.transaction(() => {
      for (const m of due) {
        if (m.message.method === "SubmitWindowedPoSt") this.executePoSt(m, m.message, epoch, postVerdicts.get(m.cid)!);
        else this.execute(m, epoch, proofVerdicts.get(m.cid));
      }
      for (const m of this.loadIndexed("packed/")) {
        if ((m.packedEpoch ?? epoch) + s.MessageLandDelay <= epoch) {
          const done: MessageLookup = { ...m, status: "landed", landedEpoch: epoch };
          this.kv.putJSON(K.msg(m.cid), done);
          this.kv.del(K.packed(m.cid));
          landed.push(done);
        }
      }
      for (const e of this.kv.scan("precommit/")) {
        const pc = JSON.parse(e.value) as OnChainPreCommit;
        if (pc.preCommitEpoch + s.MaxProveCommitDuration < epoch) {
          this.kv.del(e.key);
          log.warn(
            `PreCommit of ${e.key.slice("precommit/".length)} expired at epoch ${epoch}: no valid ProveCommit within ${s.MaxProveCommitDuration} epochs`,
          );
        }
      }
      this.closeDeadlines(epoch);
      this.kv.putJSON(K.processed, epoch);
    });
    for (const m of landed) log.debug(`message ${m.cid} landed at epoch ${epoch}`);
  }

  private execute(m: MessageLookup, epoch: number, verdicts: Map<number, SectorResult> | undefined): void {
    if (m.message.method === "SubmitWindowedPoSt") throw new Error("execute: PoSt messages go through executePoSt");
    const miner = this.kv.getJSON<StoredMiner>(K.miner(m.message.from));
    const results: SectorResult[] = [];
    const seen = new Set<number>();
    for (const sector of m.message.sectors) {
      let result: SectorResult;
      if (!miner) result = { number: sector.number, ok: false, error: `unknown miner f0${m.message.from}` };
      else if (seen.has(sector.number))
        result = { number: sector.number, ok: false, error: `sector ${sector.number} appears twice in the batch` };
      else if (m.message.method === "PreCommitSectorBatch2")
        result = this.applyPreCommit(miner, sector as PreCommitParams, epoch);
      else {
        const verdict = verdicts?.get(sector.number) ?? {
          number: sector.number,
          ok: false,
          error: "proof was not checked",
        };
        result = verdict.ok ? this.activate(miner, sector as ProveCommitParams, epoch) : verdict;
      }
      seen.add(sector.number);
      results.push(result);
    }
    const anyOk = results.some((r) => r.ok);
    const record: MessageLookup = anyOk
      ? { ...m, status: "packed", packedEpoch: epoch, exitCode: ExitCode.Ok, results }
      : {
          ...m,
          status: "failed",
          packedEpoch: epoch,
          exitCode: ExitCode.ErrIllegalArgument,
          error: results[0]?.error ?? "empty batch",
          results,
        };
    this.kv.putJSON(K.msg(m.cid), record);
    this.kv.del(K.mpool(m.cid));
    if (anyOk) this.kv.put(K.packed(m.cid), "");
    for (const r of results)
      if (!r.ok)
        log.warn(`${m.message.method} of s-t0${m.message.from}-${r.number} rejected at epoch ${epoch}: ${r.error}`);
  }

  private applyPreCommit(miner: StoredMiner, p: PreCommitParams, epoch: number): SectorResult {
    const fail = (error: string): SectorResult => ({ number: p.number, ok: false, error });
    const s = this.opts.settings;
    const info = (() => {
      try {
        return sealProofInfo(p.sealProof);
      } catch {
        return undefined;
      }
    })();
    if (
      !info ||
      info.sectorSize !== miner.sectorSize ||
      (info.variant !== "V1_1" && info.variant !== "V1_1_Feat_SyntheticPoRep")
    ) {
      return fail(
        `seal proof type ${p.sealProof} does not fit miner f0${miner.actor} (expects ${sealProofInfo(miner.sealProofType).name})`,
      );
    }
    if (this.kv.has(K.allocated(miner.actor, p.number)))
      return fail(`sector number ${p.number} is already allocated on chain`);
    if (p.sealRandEpoch >= epoch)
      return fail(`ticket epoch ${p.sealRandEpoch} must be before the PreCommit epoch ${epoch}`);
    if (p.sealRandEpoch < epoch - s.MaxTicketAge) {
      return fail(
        `ticket expired: ticket epoch ${p.sealRandEpoch} is older than ${s.MaxTicketAge} epochs at epoch ${epoch}`,
      );
    }
    if (p.commR.length !== 32 || p.commD.length !== 32) return fail("CommR and CommD must be 32 bytes");
    const pc: OnChainPreCommit = { ...p, preCommitEpoch: epoch };
    this.kv.putJSON(K.precommit(miner.actor, p.number), pc);
    this.kv.put(K.allocated(miner.actor, p.number), "");
    return { number: p.number, ok: true };
  }

  private async checkProveCommit(actor: number, p: ProveCommitParams, epoch: number): Promise<SectorResult> {
    const fail = (error: string): SectorResult => ({ number: p.number, ok: false, error });
    const s = this.opts.settings;
    if (this.kv.has(K.sector(actor, p.number))) return fail(`sector ${p.number} is already proven`);
    const pc = this.kv.getJSON<OnChainPreCommit>(K.precommit(actor, p.number));
    if (!pc) return fail(`no PreCommit on chain for sector ${p.number} (it expired or never landed)`);
    const seedEpoch = pc.preCommitEpoch + s.PreCommitChallengeDelay;
    if (epoch <= seedEpoch) return fail(`too early: the seed epoch ${seedEpoch} has not passed at epoch ${epoch}`);
    if (epoch > pc.preCommitEpoch + s.MaxProveCommitDuration)
      return fail(`too late: more than ${s.MaxProveCommitDuration} epochs after the PreCommit`);
    try {
      const ok = await this.opts.verifier.verifySeal({
        sealProof: pc.sealProof,
        commR: Uint8Array.from(pc.commR),
        commD: Uint8Array.from(pc.commD),
        minerId: actor,
        sectorNumber: p.number,
        ticket: this.beacon("SealRandomness", actor, pc.sealRandEpoch),
        seed: this.beacon("InteractiveSealChallengeSeed", actor, seedEpoch),
        proof: new Uint8Array(Buffer.from(p.proof, "base64")),
      });
      return ok
        ? { number: p.number, ok: true }
        : fail("invalid seal proof: verify_seal rejected it for the on-chain ticket, seed and commitments");
    } catch (err) {
      if (err instanceof InvalidProofError) return fail(`invalid seal proof: ${err.reason}`);
      return fail(`seal proof could not be verified: ${(err as Error).message}`);
    }
  }

  private activate(miner: StoredMiner, p: ProveCommitParams, epoch: number): SectorResult {
    const pc = this.kv.getJSON<OnChainPreCommit>(K.precommit(miner.actor, p.number));
    if (!pc) return { number: p.number, ok: false, error: `no PreCommit on chain for sector ${p.number}` };
    const dls = this.kv.getJSON<DeadlineState[]>(K.deadlines(miner.actor)) ?? [];
    if (dls.length === 0) return { number: p.number, ok: false, error: `miner f0${miner.actor} has no deadlines` };
    const { deadline, partition } = this.assignDeadline(miner, dls, pc.sealProof, epoch, p.number);
    const sector: OnChainSector = {
      number: p.number,
      sealProof: pc.sealProof,
      commR: pc.commR,
      activation: epoch,
      expiration: epoch + SECTOR_LIFETIME_EPOCHS,
      deadline,
      partition,
    };
    this.kv.putJSON(K.deadlines(miner.actor), dls);
    this.kv.putJSON(K.sector(miner.actor, p.number), sector);
    this.kv.del(K.precommit(miner.actor, p.number));
    return { number: p.number, ok: true };
  }

  /** Like the miner actor: never the deadline open now or the next one, else the one with the fewest sectors. */
  private assignDeadline(
    miner: StoredMiner,
    dls: DeadlineState[],
    sealProof: number,
    epoch: number,
    number: number,
  ): { deadline: number; partition: number } {
    const current = this.deadlineAt(miner, epoch).index;
    const excluded = dls.length > 2 ? new Set([current, (current + 1) % dls.length]) : new Set<number>();
    const load = (d: DeadlineState) => d.partitions.reduce((n, part) => n + part.length, 0);
    const target =
      dls.filter((d) => !excluded.has(d.index)).sort((a, b) => load(a) - load(b) || a.index - b.index)[0] ?? dls[0]!;
    const size = windowPoStPartitionSectors(sealProof);
    let partition = target.partitions.length - 1;
    if (partition < 0 || target.partitions[partition]!.length >= size) {
      target.partitions.push([]);
      partition = target.partitions.length - 1;
    }
    target.partitions[partition]!.push(number);
    return { deadline: target.index, partition };
  }

  // ---- WindowPoSt -------------------------------------------------------------------------------

  async provingPartitions(actor: number, open: number): Promise<ProvingPartition[]> {
    const m = this.kv.getJSON<StoredMiner>(K.miner(actor));
    if (!m) throw new Error(`unknown miner f0${actor}`);
    return this.partitionsAt(m, this.deadlineAt(m, open));
  }

  /**
   * The partitions of a deadline instance with the sectors it must prove: those active by its challenge
   * epoch (a sector activated later is first proven in the next period).
   */
  private partitionsAt(m: StoredMiner, dl: DeadlineInfo): ProvingPartition[] {
    const state = (this.kv.getJSON<DeadlineState[]>(K.deadlines(m.actor)) ?? [])[dl.index];
    const record = this.kv.getJSON<PoStRecord>(K.post(m.actor, dl.open));
    return (state?.partitions ?? []).map((numbers, index) => {
      const sectors: ProvingSector[] = [];
      const faults: number[] = [];
      for (const n of numbers) {
        const s = this.kv.getJSON<OnChainSector>(K.sector(m.actor, n));
        if (!s || s.activation > dl.challenge) continue;
        sectors.push({ number: s.number, sealProof: s.sealProof, commR: s.commR });
        if (this.kv.has(K.fault(m.actor, n))) faults.push(n);
      }
      return { index, sectors, faults, proven: record?.partitions.find((p) => p.index === index)?.proven ?? false };
    });
  }

  private newRecord(m: StoredMiner, dl: DeadlineInfo): PoStRecord {
    return {
      actor: m.actor,
      deadline: dl.index,
      periodStart: dl.periodStart,
      open: dl.open,
      close: dl.close,
      challenge: dl.challenge,
      partitions: [],
      verifiedProofs: 0,
      rejectedProofs: 0,
      declaredFaults: [],
      detectedFaults: [],
      recovered: [],
    };
  }

  private stats(actor: number): ProvingStats {
    return { ...EMPTY_STATS, ...this.kv.getJSON<ProvingStats>(K.stats(actor)) };
  }

  private bumpStats(actor: number, change: Partial<ProvingStats>): void {
    const st = this.stats(actor);
    for (const [k, v] of Object.entries(change) as [keyof ProvingStats, number][]) st[k] += v;
    this.kv.putJSON(K.stats(actor), st);
  }

  /** Checks a WindowPoSt submission against the deadline open at `epoch` and verifies its proof. */
  private async checkWindowPoSt(msg: PoStMessage, epoch: number): Promise<Verdict> {
    const fail = (error: string): Verdict => ({ ok: false, error });
    const m = this.kv.getJSON<StoredMiner>(K.miner(msg.from));
    if (!m) return fail(`unknown miner f0${msg.from}`);
    const post = msg.post;
    const dl = this.deadlineAt(m, epoch);
    if (post.open !== dl.open || post.deadline !== dl.index) {
      return fail(
        `the proof is for deadline ${post.deadline} opening at epoch ${post.open}, but at epoch ${epoch} deadline ${dl.index} (open ${dl.open}..${dl.close}) is current`,
      );
    }
    if (post.partitions.length === 0) return fail("no partitions in the submission");
    const parts = this.partitionsAt(m, dl);
    const toProve: ProvingSector[] = [];
    const seen = new Set<number>();
    for (const p of post.partitions) {
      const part = parts[p.index];
      if (!part || part.sectors.length === 0)
        return fail(`deadline ${dl.index} has no partition ${p.index} with sectors to prove`);
      if (seen.has(p.index)) return fail(`partition ${p.index} appears twice`);
      seen.add(p.index);
      if (part.proven) return fail(`partition ${p.index} of deadline ${dl.index} is already proven in this period`);
      const numbers = new Set(part.sectors.map((s) => s.number));
      const faults = new Set(part.faults);
      const strange = p.skipped.find((n) => !numbers.has(n)) ?? p.recovered.find((n) => !faults.has(n));
      if (strange !== undefined)
        return fail(
          `sector ${strange} is not a ${p.skipped.includes(strange) ? "sector" : "faulty sector"} of partition ${p.index}`,
        );
      const recovered = new Set(p.recovered);
      const skipped = new Set(p.skipped);
      for (const s of part.sectors)
        if (!skipped.has(s.number) && (!faults.has(s.number) || recovered.has(s.number))) toProve.push(s);
    }
    toProve.sort((a, b) => a.number - b.number);
    if (toProve.length === 0)
      return post.proofs.length === 0 ? { ok: true } : fail("proofs given for a submission that proves no sector");
    if (post.proofs.length === 0) return fail(`no proof for the ${toProve.length} sector(s) to prove`);
    const wrongType = post.proofs.find((p) => p.postProof !== m.windowPoStProofType);
    if (wrongType)
      return fail(`PoSt proof type ${wrongType.postProof} does not fit the miner (expects ${m.windowPoStProofType})`);
    try {
      const ok = await this.postVerifier.verifyWindowPoSt({
        minerId: m.actor,
        randomness: this.beacon("WindowedPoStChallengeSeed", m.actor, dl.challenge),
        proofs: post.proofs.map((p) => ({
          postProof: p.postProof,
          proof: new Uint8Array(Buffer.from(p.proof, "base64")),
        })),
        replicas: toProve.map((s) => ({ sectorId: s.number, commR: Uint8Array.from(s.commR) })),
      });
      return ok
        ? { ok: true }
        : fail(
            `invalid WindowPoSt: verify_window_post rejected it for sectors ${toProve.map((s) => s.number).join(",")}`,
          );
    } catch (err) {
      if (err instanceof InvalidProofError) return fail(`invalid WindowPoSt: ${err.reason}`);
      return fail(`WindowPoSt could not be verified: ${(err as Error).message}`);
    }
  }

  private executePoSt(m: MessageLookup, msg: PoStMessage, epoch: number, verdict: Verdict): void {
    const miner = this.kv.getJSON<StoredMiner>(K.miner(msg.from));
    if (!miner || !verdict.ok) {
      this.kv.putJSON(K.msg(m.cid), {
        ...m,
        status: "failed",
        packedEpoch: epoch,
        exitCode: ExitCode.ErrIllegalArgument,
        error: verdict.error ?? "unknown miner",
      } satisfies MessageLookup);
      this.kv.del(K.mpool(m.cid));
      if (miner) {
        const dl = this.deadlineAt(miner, msg.post.open);
        const record = this.kv.getJSON<PoStRecord>(K.post(miner.actor, dl.open)) ?? this.newRecord(miner, dl);
        record.rejectedProofs++;
        this.kv.putJSON(K.post(miner.actor, dl.open), record);
        this.bumpStats(miner.actor, { windowPoStsRejected: 1 });
      }
      log.warn(
        `SubmitWindowedPoSt of f0${msg.from} (deadline ${msg.post.deadline}) rejected at epoch ${epoch}: ${verdict.error}`,
      );
      return;
    }
    const dl = this.deadlineAt(miner, epoch);
    const record = this.kv.getJSON<PoStRecord>(K.post(miner.actor, dl.open)) ?? this.newRecord(miner, dl);
    const parts = this.partitionsAt(miner, dl);
    let declared = 0;
    let recovered = 0;
    for (const p of msg.post.partitions) {
      const sectors = parts[p.index]!.sectors.map((s) => s.number);
      const entry = record.partitions.find((r) => r.index === p.index);
      const proven = { index: p.index, sectors, proven: true, provenEpoch: epoch, message: m.cid };
      if (entry) Object.assign(entry, proven);
      else record.partitions.push(proven);
      for (const n of p.skipped) {
        if (this.kv.has(K.fault(miner.actor, n))) continue;
        this.kv.putJSON(K.fault(miner.actor, n), {
          number: n,
          since: epoch,
          kind: "declared",
          reason: `skipped by the miner's WindowPoSt in deadline ${dl.index}`,
        } satisfies FaultRecord);
        record.declaredFaults.push(n);
        declared++;
      }
      for (const n of p.recovered) {
        this.kv.del(K.fault(miner.actor, n));
        record.recovered.push(n);
        recovered++;
      }
    }
    record.verifiedProofs++;
    record.partitions.sort((a, b) => a.index - b.index);
    this.kv.putJSON(K.post(miner.actor, dl.open), record);
    this.bumpStats(miner.actor, { windowPoStsVerified: 1, faultsDeclared: declared, recoveries: recovered });
    this.kv.putJSON(K.msg(m.cid), {
      ...m,
      status: "packed",
      packedEpoch: epoch,
      exitCode: ExitCode.Ok,
    } satisfies MessageLookup);
    this.kv.del(K.mpool(m.cid));
    this.kv.put(K.packed(m.cid), "");
    log.info(
      `WindowPoSt of f0${miner.actor} deadline ${dl.index} verified at epoch ${epoch}: partitions ${msg.post.partitions.map((p) => p.index).join(",")}` +
        (declared ? `, ${declared} fault(s) declared` : "") +
        (recovered ? `, ${recovered} sector(s) recovered` : ""),
    );
  }

  /** Judges every deadline instance that closed by `epoch`: unproven partitions' sectors become faulty. */
  private closeDeadlines(epoch: number): void {
    for (const { value: m } of this.kv.scanJSON<StoredMiner>("miner/")) {
      let through = this.kv.getJSON<number>(K.closedThrough(m.actor)) ?? epoch;
      for (let dl = this.deadlineAt(m, through); dl.close <= epoch; dl = this.deadlineAt(m, dl.close)) {
        this.judgeDeadline(m, dl);
        through = dl.close;
      }
      this.kv.putJSON(K.closedThrough(m.actor), through);
    }
  }

  private judgeDeadline(m: StoredMiner, dl: DeadlineInfo): void {
    const parts = this.partitionsAt(m, dl).filter((p) => p.sectors.length > 0);
    if (parts.length === 0) return;
    const record = this.kv.getJSON<PoStRecord>(K.post(m.actor, dl.open)) ?? this.newRecord(m, dl);
    let anyFaulty = false;
    let missed = false;
    for (const p of parts) {
      if (!record.partitions.some((r) => r.index === p.index)) {
        record.partitions.push({ index: p.index, sectors: p.sectors.map((s) => s.number), proven: false });
      }
      if (p.proven) {
        if (p.faults.length) anyFaulty = true;
        continue;
      }
      missed = true;
      for (const s of p.sectors) {
        if (this.kv.has(K.fault(m.actor, s.number))) continue;
        this.kv.putJSON(K.fault(m.actor, s.number), {
          number: s.number,
          since: dl.close,
          kind: "detected",
          reason: `no WindowPoSt for partition ${p.index} of deadline ${dl.index} (epochs ${dl.open}..${dl.close})`,
        } satisfies FaultRecord);
        record.detectedFaults.push(s.number);
      }
    }
    const outcome: DeadlineOutcome = missed ? "missed" : anyFaulty ? "partially-faulty" : "proven";
    record.outcome = outcome;
    record.partitions.sort((a, b) => a.index - b.index);
    this.kv.putJSON(K.post(m.actor, dl.open), record);
    this.bumpStats(m.actor, { faultsDetected: record.detectedFaults.length, deadlinesMissed: missed ? 1 : 0 });
    if (missed) {
      log.warn(
        `f0${m.actor} missed WindowPoSt in deadline ${dl.index} (epochs ${dl.open}..${dl.close}): ${record.detectedFaults.length} sector(s) now faulty`,
      );
    }
  }

  async faults(actor: number): Promise<FaultRecord[]> {
    return this.kv
      .scanJSON<FaultRecord>(`fault/${actor}/`)
      .map((e) => e.value)
      .sort((a, b) => a.number - b.number);
  }

  async postRecords(actor: number, limit = 100): Promise<PoStRecord[]> {
    return this.kv
      .scanJSON<PoStRecord>(`post/${actor}/`)
      .map((e) => e.value)
      .slice(-limit);
  }

  async provingStats(actor: number): Promise<ProvingStats> {
    return this.stats(actor);
  }

  // ---- WinningPoSt ------------------------------------------------------------------------------

  private liveSectors(actor: number, epoch: number): ProvingSector[] {
    return this.kv
      .scanJSON<OnChainSector>(`sector/${actor}/`)
      .map((e) => e.value)
      .filter((s) => s.activation <= epoch && !this.kv.has(K.fault(actor, s.number)))
      .sort((a, b) => a.number - b.number)
      .map((s) => ({ number: s.number, sealProof: s.sealProof, commR: s.commR }));
  }

  /**
   * Power-weighted election from the beacon: across all miners about one block every ElectionPeriod
   * epochs, each miner's chance proportional to its share of live (non-faulty) sectors' bytes.
   */
  async isElected(actor: number, epoch: number): Promise<boolean> {
    const m = this.kv.getJSON<StoredMiner>(K.miner(actor));
    if (!m) return false;
    let total = 0;
    let mine = 0;
    for (const { value: other } of this.kv.scanJSON<StoredMiner>("miner/")) {
      const bytes = this.liveSectors(other.actor, epoch).length * other.sectorSize;
      total += bytes;
      if (other.actor === actor) mine = bytes;
    }
    if (mine === 0) return false;
    const draw = Buffer.from(this.beacon("WinningPoStChallengeSeed", actor, epoch)).readUInt32LE(0) / 2 ** 32;
    return draw < mine / total / this.opts.settings.ElectionPeriod;
  }

  async winningPoStRandomness(actor: number, epoch: number): Promise<Uint8Array> {
    return this.randomness("WinningPoStChallengeSeed", actor, epoch);
  }

  async winningSectorSet(actor: number, epoch: number): Promise<ProvingSector[]> {
    return this.liveSectors(actor, epoch);
  }

  async submitBlock(
    actor: number,
    epoch: number,
    proofs: { postProof: number; proof: string }[],
  ): Promise<BlockRecord> {
    const existing = this.kv.getJSON<BlockRecord>(K.block(actor, epoch));
    if (existing?.ok) return existing;
    const head = this.headEpoch();
    const record = (ok: boolean, sectors: number, error?: string): BlockRecord => {
      const r: BlockRecord = { actor, epoch, ok, sectors, ...(error ? { error } : {}) };
      this.opts.store.transaction(() => {
        this.kv.putJSON(K.block(actor, epoch), r);
        this.bumpStats(actor, ok ? { blocksMined: 1 } : { winningPoStsRejected: 1 });
      });
      if (ok)
        log.info(`block of f0${actor} at epoch ${epoch} accepted (WinningPoSt verified over ${sectors} sector(s))`);
      else log.warn(`block of f0${actor} at epoch ${epoch} rejected: ${error}`);
      return r;
    };
    if (epoch > head) return record(false, 0, `epoch ${epoch} is in the future (head ${head})`);
    const late = this.opts.settings.WPoStChallengeWindow;
    if (head - epoch > late)
      return record(
        false,
        0,
        `too late: the block for epoch ${epoch} came ${head - epoch} epochs later (limit ${late})`,
      );
    if (!(await this.isElected(actor, epoch))) return record(false, 0, `f0${actor} was not elected at epoch ${epoch}`);
    const m = this.kv.getJSON<StoredMiner>(K.miner(actor))!;
    const sectors = this.liveSectors(actor, epoch);
    try {
      const ok = await this.postVerifier.verifyWinningPoSt({
        minerId: actor,
        randomness: this.beacon("WinningPoStChallengeSeed", actor, epoch),
        proofs: proofs.map((p) => ({ postProof: p.postProof, proof: new Uint8Array(Buffer.from(p.proof, "base64")) })),
        replicas: sectors.map((s) => ({ sectorId: s.number, commR: Uint8Array.from(s.commR) })),
      });
      if (proofs.some((p) => p.postProof !== winningPoStProofFor(m.sealProofType))) {
        return record(
          false,
          sectors.length,
          `WinningPoSt proof type does not fit the miner (expects ${winningPoStProofFor(m.sealProofType)})`,
        );
      }
      return ok
        ? record(true, sectors.length)
        : record(false, sectors.length, "invalid WinningPoSt: verify_winning_post rejected it");
    } catch (err) {
      if (err instanceof InvalidProofError) return record(false, sectors.length, `invalid WinningPoSt: ${err.reason}`);
      return record(false, sectors.length, `WinningPoSt could not be verified: ${(err as Error).message}`);
    }
  }
}
