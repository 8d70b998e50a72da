import { createHash } from "node:crypto";
import { childLogger } from "../../core/log/index.ts";
import { sealProofFor, sealProofInfo, windowPoStPartitionSectors, windowPoStProofFor } from "../../core/sector/index.ts";
import type { Collection, KVStore } from "../../core/store/index.ts";
import {
  ExitCode,
  messageId,
  type Chain,
  type ChainHead,
  type ChainMessage,
  type ChainPolicy,
  type DeadlineInfo,
  type DeadlineState,
  type MessageLookup,
  type MinerInfo,
  type MinerPower,
  type OnChainPreCommit,
  type OnChainSector,
  type PreCommitParams,
  type ProveCommitParams,
  type SectorResult,
} from "./chain.ts";
import type { DevnetSettings } from "./devnet-config.ts";
import { deriveRandomness, type RandomnessDomain } from "./randomness.ts";
import { InvalidProofError, type SealVerifier } from "./verifier.ts";

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

export interface DevnetOptions {
  store: KVStore;
  settings: DevnetSettings;
  verifier: SealVerifier;
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
};

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
  private notifiedEpoch = -1;

  constructor(private readonly opts: DevnetOptions) {
    this.kv = opts.store.collection("chain");
    this.now = opts.now ?? Date.now;
    this.genesis = this.loadGenesis();
    this.beacon = opts.beacon ?? ((domain, actor, epoch) => deriveRandomness(this.genesis.seed, domain, actor, epoch));
    for (const m of opts.miners) this.ensureMiner(m);
  }

  private loadGenesis(): Genesis {
    const { settings } = this.opts;
    const stored = this.kv.getJSON<Genesis>(K.genesis);
    const now = this.now();
    if (!stored) {
      const g: Genesis = { seed: settings.Seed, anchorEpoch: 0, anchorTime: now, blockTimeMs: settings.BlockTime, createdAt: now };
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
    this.opts.store.transaction(() => {
      this.kv.putJSON(K.miner(spec.actor), miner);
      this.kv.putJSON(
        K.deadlines(spec.actor),
        Array.from({ length: this.opts.settings.WPoStPeriodDeadlines }, (_, index): DeadlineState => ({ index, partitions: [] })),
      );
    });
    log.info(`devnet miner f0${spec.actor} created: ${sealProofInfo(sealProofType).name}`);
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
    return { epoch, timestamp: this.genesis.anchorTime + (epoch - this.genesis.anchorEpoch) * this.genesis.blockTimeMs };
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
    return m && { actor: m.actor, sectorSize: m.sectorSize, sealProofType: m.sealProofType, windowPoStProofType: m.windowPoStProofType };
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
    log.debug(`message ${cid} pushed: ${msg.method} of f0${msg.from}, ${msg.sectors.length} sector(s)`);
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
    return { currentEpoch: epoch, periodStart, index, open, close: open + w, challenge: open - this.opts.settings.WPoStChallengeLookback };
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
    if (!m) return { rawBytes: 0, activeSectors: 0 };
    const active = this.kv.count(`sector/${actor}/`);
    return { rawBytes: active * m.sectorSize, activeSectors: active };
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
      for (const sector of m.message.sectors) verdicts.set(sector.number, await this.checkProveCommit(m.message.from, sector, epoch));
      proofVerdicts.set(m.cid, verdicts);
    }

    const landed: MessageLookup[] = [];
    this.opts.store.transaction(() => {
      for (const m of due) this.execute(m, epoch, proofVerdicts.get(m.cid));
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
      this.kv.putJSON(K.processed, epoch);
    });
    for (const m of landed) log.debug(`message ${m.cid} landed at epoch ${epoch}`);
  }

  private execute(m: MessageLookup, epoch: number, verdicts: Map<number, SectorResult> | undefined): void {
    const miner = this.kv.getJSON<StoredMiner>(K.miner(m.message.from));
    const results: SectorResult[] = [];
    const seen = new Set<number>();
    for (const sector of m.message.sectors) {
      let result: SectorResult;
      if (!miner) result = { number: sector.number, ok: false, error: `unknown miner f0${m.message.from}` };
      else if (seen.has(sector.number))
        result = { number: sector.number, ok: false, error: `sector ${sector.number} appears twice in the batch` };
      else if (m.message.method === "PreCommitSectorBatch2") result = this.applyPreCommit(miner, sector as PreCommitParams, epoch);
      else {
        const verdict = verdicts?.get(sector.number) ?? { number: sector.number, ok: false, error: "proof was not checked" };
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
      if (!r.ok) log.warn(`${m.message.method} of s-t0${m.message.from}-${r.number} rejected at epoch ${epoch}: ${r.error}`);
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
    if (!info || info.sectorSize !== miner.sectorSize || (info.variant !== "V1_1" && info.variant !== "V1_1_Feat_SyntheticPoRep")) {
      return fail(
        `seal proof type ${p.sealProof} does not fit miner f0${miner.actor} (expects ${sealProofInfo(miner.sealProofType).name})`,
      );
    }
    if (this.kv.has(K.allocated(miner.actor, p.number))) return fail(`sector number ${p.number} is already allocated on chain`);
    if (p.sealRandEpoch >= epoch) return fail(`ticket epoch ${p.sealRandEpoch} must be before the PreCommit epoch ${epoch}`);
    if (p.sealRandEpoch < epoch - s.MaxTicketAge) {
      return fail(`ticket expired: ticket epoch ${p.sealRandEpoch} is older than ${s.MaxTicketAge} epochs at epoch ${epoch}`);
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
    const current = this.deadlineAt(miner, epoch).index;
    // Like the miner actor: never the deadline that is open now or the next one, else the fewest sectors.
    const excluded = dls.length > 2 ? new Set([current, (current + 1) % dls.length]) : new Set<number>();
    const load = (d: DeadlineState) => d.partitions.reduce((n, part) => n + part.length, 0);
    const target = dls.filter((d) => !excluded.has(d.index)).sort((a, b) => load(a) - load(b) || a.index - b.index)[0] ?? dls[0];
    if (!target) return { number: p.number, ok: false, error: `miner f0${miner.actor} has no deadlines` };
    const size = windowPoStPartitionSectors(pc.sealProof);
    let partition = target.partitions.length - 1;
    if (partition < 0 || target.partitions[partition]!.length >= size) {
      target.partitions.push([]);
      partition = target.partitions.length - 1;
    }
    target.partitions[partition]!.push(p.number);
    const sector: OnChainSector = {
      number: p.number,
      sealProof: pc.sealProof,
      commR: pc.commR,
      activation: epoch,
      expiration: epoch + SECTOR_LIFETIME_EPOCHS,
      deadline: target.index,
      partition,
    };
    this.kv.putJSON(K.deadlines(miner.actor), dls);
    this.kv.putJSON(K.sector(miner.actor, p.number), sector);
    this.kv.del(K.precommit(miner.actor, p.number));
    return { number: p.number, ok: true };
  }
}
