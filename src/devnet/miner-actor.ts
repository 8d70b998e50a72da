import { createHash } from "node:crypto";
import { childLogger } from "../core/log/index.ts";
import type {
  DeadlineState,
  MinerInfo,
  MinerPower,
  OnChainPreCommit,
  OnChainSector,
  PreCommitParams,
  ProveCommitParams,
  RejectionCode,
  SealMessage,
  SectorResult,
} from "../core/sector/chain.ts";
import {
  sealProofFor,
  sealProofInfo,
  sectorName,
  windowPoStPartitionSectors,
  windowPoStProofFor,
} from "../core/sector/index.ts";
import { type DevnetClock, deadlineAt, provingPeriod } from "./clock.ts";
import type { DevnetSettings } from "./config.ts";
import type { SectorVerdicts, StorageMarket } from "./market.ts";
import { type Execution, rejected } from "./mpool.ts";
import type { Beacon } from "./randomness.ts";
import { type DevnetStore, K, type StoredMiner } from "./store.ts";
import { InvalidProofError, type SealVerifier } from "./verifier.ts";

const log = childLogger("devnet");

/** Sector lifetime on the devnet: 540 days of 30 s mainnet epochs, counted in epochs. */
export const SECTOR_LIFETIME_EPOCHS = 540 * 2880;

export interface DevnetMinerSpec {
  actor: number;
  sectorSize: number;
  /** The worker (= owner) key address; absent: the devnet's well-known dev key for this miner (accounts.ts). */
  worker?: string;
}

/** A sector sealed before genesis (lotus-seed's pre-seal): active from the miner's creation. */
export interface PresealSector {
  actor: number;
  number: number;
  sealProof: number;
  commR: number[];
}

const sectorFail = (number: number, code: RejectionCode, error: string): SectorResult => ({
  number,
  ...rejected(code, error),
});

/**
 * The storage miner actor's sealing side: miners and their deadlines, PreCommits checked (sector number,
 * ticket age, proof type) and ProveCommits verified with verify_seal against the ticket and seed this chain
 * handed out, then activated into a deadline.
 */
export class MinerActor {
  constructor(
    private readonly db: DevnetStore,
    private readonly clock: DevnetClock,
    private readonly settings: DevnetSettings,
    private readonly verifier: SealVerifier,
    private readonly beacon: Beacon,
    private readonly market: StorageMarket,
  ) {}

  /** Creates the miner on first start (with its pre-sealed sectors); an existing one is left as it is. */
  ensureMiner(spec: DevnetMinerSpec, allPreseal: PresealSector[]): void {
    const existing = this.db.miner(spec.actor);
    if (existing) {
      if (existing.sectorSize !== spec.sectorSize) {
        log.warn(
          `devnet miner ${spec.actor} was created with sector size ${existing.sectorSize} bytes; ignoring the configured ${spec.sectorSize}`,
        );
      }
      return;
    }
    const sealProofType = sealProofFor(spec.sectorSize);
    const offsetDigest = createHash("sha256").update(`${this.clock.genesis.seed}/period/${spec.actor}`).digest();
    const miner: StoredMiner = {
      actor: spec.actor,
      sectorSize: spec.sectorSize,
      sealProofType,
      windowPoStProofType: windowPoStProofFor(sealProofType),
      periodOffset: offsetDigest.readUInt32LE(0) % provingPeriod(this.settings),
    };
    const head = this.clock.headEpoch();
    const preseal = allPreseal.filter((p) => p.actor === spec.actor).sort((a, b) => a.number - b.number);
    this.db.transaction(() => {
      this.db.putMiner(miner);
      const dls = Array.from(
        { length: this.settings.WPoStPeriodDeadlines },
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
        this.db.kv.put(K.allocated(spec.actor, p.number), "");
        this.db.putSector(spec.actor, {
          number: p.number,
          sealProof: p.sealProof,
          commR: p.commR,
          activation: head,
          expiration: head + SECTOR_LIFETIME_EPOCHS,
          deadline,
          partition,
          dealIds: [],
        });
      }
      this.db.putDeadlines(spec.actor, dls);
      this.db.putClosedThrough(spec.actor, head);
    });
    log.info(
      `devnet miner f0${spec.actor} created: ${sealProofInfo(sealProofType).name}${preseal.length ? `, ${preseal.length} pre-sealed sector(s)` : ""}`,
    );
  }

  minerInfo(actor: number): MinerInfo | undefined {
    const m = this.db.miner(actor);
    return m && publicInfo(m);
  }

  listMiners(): MinerInfo[] {
    return this.db.miners().map(publicInfo);
  }

  isSectorNumberAllocated(actor: number, number: number): boolean {
    return this.db.kv.has(K.allocated(actor, number));
  }

  minerPower(actor: number): MinerPower {
    const m = this.db.miner(actor);
    if (!m) return { rawBytes: 0, activeSectors: 0, faultySectors: 0 };
    const active = this.db.kv.count(K.sectors(actor));
    const faulty = this.db.kv.count(K.faults(actor));
    return { rawBytes: (active - faulty) * m.sectorSize, activeSectors: active, faultySectors: faulty };
  }

  /** Epochs at which a PreCommit expires for want of a ProveCommit. */
  nextEvents(): number[] {
    return this.db.precommits().map(({ value: pc }) => pc.preCommitEpoch + this.settings.MaxProveCommitDuration + 1);
  }

  /**
   * Verifies the proofs of a ProveCommit batch. Verification is asynchronous (native, off the JS thread), so
   * it runs before the epoch's transaction; nothing else changes PreCommits meanwhile because ticks are
   * serialised.
   */
  async checkProveCommits(msg: { from: number; sectors: ProveCommitParams[] }, epoch: number): Promise<SectorVerdicts> {
    const verdicts: SectorVerdicts = new Map();
    for (const sector of msg.sectors) verdicts.set(sector.number, await this.checkProveCommit(msg.from, sector, epoch));
    return verdicts;
  }

  /**
   * Executes a PreCommit or ProveCommit batch sector by sector; the message succeeds if any sector does.
   * `verdicts`: what was checked before the transaction (ProveCommit proofs, the CommD of deal PreCommits).
   */
  execute(msg: SealMessage, epoch: number, verdicts: SectorVerdicts | undefined): Execution {
    const miner = this.db.miner(msg.from);
    const results: SectorResult[] = [];
    const seen = new Set<number>();
    for (const sector of msg.sectors) {
      let result: SectorResult;
      if (!miner) result = sectorFail(sector.number, "unknown-miner", `unknown miner f0${msg.from}`);
      else if (seen.has(sector.number))
        result = sectorFail(sector.number, "duplicate", `sector ${sector.number} appears twice in the batch`);
      else if (msg.method === "PreCommitSectorBatch2")
        result = this.applyPreCommit(miner, sector as PreCommitParams, epoch, verdicts?.get(sector.number));
      else {
        const verdict = verdicts?.get(sector.number) ?? sectorFail(sector.number, "internal", "proof was not checked");
        result = verdict.ok ? this.activate(miner, sector as ProveCommitParams, epoch) : verdict;
      }
      seen.add(sector.number);
      results.push(result);
    }
    for (const r of results)
      if (!r.ok)
        log.warn(
          `${msg.method} of ${sectorName({ Miner: msg.from, Number: r.number })} rejected at epoch ${epoch}: ${r.error}`,
        );
    if (results.some((r) => r.ok)) return { ok: true, results };
    const first = results[0];
    return first
      ? { ...rejected(first.code ?? "internal", first.error ?? "rejected"), results }
      : { ...rejected("malformed", "empty batch"), results };
  }

  /** PreCommits older than MaxProveCommitDuration at `epoch` leave the chain (their numbers stay allocated). */
  expirePreCommits(epoch: number): void {
    const max = this.settings.MaxProveCommitDuration;
    for (const { key, value: pc } of this.db.precommits()) {
      if (pc.preCommitEpoch + max < epoch) {
        this.db.kv.del(key);
        log.warn(
          `PreCommit of ${key.slice(K.precommits.length)} expired at epoch ${epoch}: no valid ProveCommit within ${max} epochs`,
        );
      }
    }
  }

  private applyPreCommit(
    miner: StoredMiner,
    p: PreCommitParams,
    epoch: number,
    dataVerdict: SectorResult | undefined,
  ): SectorResult {
    const fail = (code: RejectionCode, error: string) => sectorFail(p.number, code, error);
    const s = this.settings;
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
        "wrong-proof-type",
        `seal proof type ${p.sealProof} does not fit miner f0${miner.actor} (expects ${sealProofInfo(miner.sealProofType).name})`,
      );
    }
    if (this.db.kv.has(K.allocated(miner.actor, p.number)))
      return fail("already-allocated", `sector number ${p.number} is already allocated on chain`);
    if (p.sealRandEpoch >= epoch)
      return fail("ticket-too-new", `ticket epoch ${p.sealRandEpoch} must be before the PreCommit epoch ${epoch}`);
    if (p.sealRandEpoch < epoch - s.MaxTicketAge) {
      return fail(
        "ticket-expired",
        `ticket expired: ticket epoch ${p.sealRandEpoch} is older than ${s.MaxTicketAge} epochs at epoch ${epoch}`,
      );
    }
    const dealProblem = this.market.checkPreCommit(miner, p, epoch, dataVerdict);
    if (dealProblem) return dealProblem;
    this.db.putPrecommit(miner.actor, { ...p, preCommitEpoch: epoch });
    this.db.kv.put(K.allocated(miner.actor, p.number), "");
    return { number: p.number, ok: true };
  }

  private async checkProveCommit(actor: number, p: ProveCommitParams, epoch: number): Promise<SectorResult> {
    const fail = (code: RejectionCode, error: string) => sectorFail(p.number, code, error);
    const s = this.settings;
    if (this.db.kv.has(K.sector(actor, p.number)))
      return fail("already-proven", `sector ${p.number} is already proven`);
    const pc = this.db.precommit(actor, p.number);
    if (!pc) return fail("no-precommit", `no PreCommit on chain for sector ${p.number} (it expired or never landed)`);
    const seedEpoch = pc.preCommitEpoch + s.PreCommitChallengeDelay;
    if (epoch <= seedEpoch)
      return fail("too-early", `too early: the seed epoch ${seedEpoch} has not passed at epoch ${epoch}`);
    if (epoch > pc.preCommitEpoch + s.MaxProveCommitDuration)
      return fail("too-late", `too late: more than ${s.MaxProveCommitDuration} epochs after the PreCommit`);
    try {
      const ok = await this.verifier.verifySeal({
        sealProof: pc.sealProof,
        commR: Uint8Array.from(pc.commR),
        commD: Uint8Array.from(pc.commD),
        minerId: actor,
        sectorNumber: p.number,
        ticket: this.beacon("SealRandomness", actor, pc.sealRandEpoch),
        seed: this.beacon("InteractiveSealChallengeSeed", actor, seedEpoch),
        proof: new Uint8Array(Buffer.from(p.proof, "base64")),
      });
      if (!ok)
        return fail(
          "invalid-proof",
          "invalid seal proof: verify_seal rejected it for the on-chain ticket, seed and commitments",
        );
    } catch (err) {
      if (err instanceof InvalidProofError) return fail("invalid-proof", `invalid seal proof: ${err.reason}`);
      return fail("unverifiable", `seal proof could not be verified: ${(err as Error).message}`);
    }
    return this.checkPieceCommD(actor, pc, p);
  }

  /**
   * Deals that arrive with the ProveCommit (builtin's way): the CommD the PreCommit declared must be the
   * commitment of their pieces. Asynchronous like the proof, so it runs before the epoch's transaction.
   */
  private async checkPieceCommD(actor: number, pc: OnChainPreCommit, p: ProveCommitParams): Promise<SectorResult> {
    const dealIds = p.dealIds ?? [];
    const miner = this.db.miner(actor);
    if (dealIds.length === 0 || pc.dealIds.length > 0 || !miner) return { number: p.number, ok: true };
    return this.market.checkCommDOf(miner, p.number, dealIds, pc.commD);
  }

  private activate(miner: StoredMiner, p: ProveCommitParams, epoch: number): SectorResult {
    const pc = this.db.precommit(miner.actor, p.number);
    if (!pc) return sectorFail(p.number, "no-precommit", `no PreCommit on chain for sector ${p.number}`);
    const dls = this.db.deadlines(miner.actor);
    if (dls.length === 0) return sectorFail(p.number, "internal", `miner f0${miner.actor} has no deadlines`);
    // Deals named by the PreCommit (the internal path) or carried by the ProveCommit's pieces (builtin's).
    const dealIds = pc.dealIds.length > 0 ? pc.dealIds : (p.dealIds ?? []);
    const expiration = epoch + SECTOR_LIFETIME_EPOCHS;
    const dealProblem =
      pc.dealIds.length > 0
        ? this.market.checkActivation(miner.actor, p.number, dealIds, epoch)
        : dealIds.length > 0
          ? this.market.checkUpdateDeals(miner.actor, p.number, dealIds, epoch, expiration)
          : undefined;
    if (dealProblem) return dealProblem;
    const { deadline, partition } = this.assignDeadline(miner, dls, pc.sealProof, epoch, p.number);
    const sector: OnChainSector = {
      number: p.number,
      sealProof: pc.sealProof,
      commR: pc.commR,
      activation: epoch,
      expiration,
      deadline,
      partition,
      dealIds: [...dealIds],
    };
    this.db.putDeadlines(miner.actor, dls);
    this.db.putSector(miner.actor, sector);
    this.db.kv.del(K.precommit(miner.actor, p.number));
    this.market.activate(p.number, dealIds, epoch);
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
    const current = deadlineAt(this.settings, miner, epoch).index;
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
}

function publicInfo(m: StoredMiner): MinerInfo {
  return {
    actor: m.actor,
    sectorSize: m.sectorSize,
    sealProofType: m.sealProofType,
    windowPoStProofType: m.windowPoStProofType,
  };
}
