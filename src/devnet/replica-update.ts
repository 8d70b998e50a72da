import { childLogger } from "../core/log/index.ts";
import type {
  OnChainSector,
  RejectionCode,
  ReplicaUpdateMessage,
  ReplicaUpdateParams,
  SectorResult,
} from "../core/sector/chain.ts";
import { deadlineIsMutable } from "../core/sector/deadlines.ts";
import { sectorName, updateProofFor } from "../core/sector/index.ts";
import { deadlineAt } from "./clock.ts";
import type { DevnetSettings } from "./config.ts";
import type { SectorVerdicts, StorageMarket } from "./market.ts";
import { type Execution, rejected } from "./mpool.ts";
import type { DevnetStore, StoredMiner } from "./store.ts";
import { InvalidProofError, type UpdateVerifier } from "./verifier.ts";

const log = childLogger("devnet");

const fail = (number: number, code: RejectionCode, error: string): SectorResult => ({
  number,
  ...rejected(code, error),
});

/**
 * ProveReplicaUpdates (SnapDeals): a committed-capacity sector gets deal data. Each update is checked
 * like the miner actor does (an active CC sector, never updated, not faulty, where the miner says it is,
 * in a deadline that is not being proven now or next), its deals like an activation, and its proof with
 * verify_empty_sector_update_proof against the sector's current CommR and the CommD of its deals. An
 * accepted update replaces the sector's CommR (the old one is kept as its sector key) and activates the
 * deals; WindowPoSt and WinningPoSt then verify against the new CommR.
 */
export class ReplicaUpdates {
  constructor(
    private readonly db: DevnetStore,
    private readonly settings: DevnetSettings,
    private readonly verifier: UpdateVerifier,
    private readonly market: StorageMarket,
  ) {}

  /**
   * Before the epoch's transaction: the rules that depend only on the message and on records no earlier
   * message of the epoch can change (proof types, deal CommD), and the proofs, verified off the JS thread.
   */
  async check(msg: ReplicaUpdateMessage): Promise<SectorVerdicts> {
    const verdicts: SectorVerdicts = new Map();
    const miner = this.db.miner(msg.from);
    if (!miner) return verdicts;
    for (const u of msg.updates) {
      if (!verdicts.has(u.number)) verdicts.set(u.number, await this.checkOne(miner, u));
    }
    return verdicts;
  }

  private async checkOne(miner: StoredMiner, u: ReplicaUpdateParams): Promise<SectorResult> {
    const sector = this.db.sector(miner.actor, u.number);
    const problem = sector ? this.sectorProblem(sector, u) : undefined;
    if (!sector || problem) return problem ?? fail(u.number, "unknown-sector", `sector ${u.number} is not active`);
    const expected = updateProofFor(sector.sealProof);
    if (u.updateProof !== expected)
      return fail(
        u.number,
        "wrong-proof-type",
        `update proof type ${u.updateProof} does not fit sector ${u.number} (expects ${expected})`,
      );
    if (u.dealIds.length === 0) return fail(u.number, "malformed", `the update of sector ${u.number} names no deals`);
    const computed = await this.market.dealsCommD(miner, u.number, u.dealIds);
    if (!("commD" in computed)) return computed;
    try {
      const ok = await this.verifier.verifyReplicaUpdate({
        updateProof: u.updateProof,
        commROld: Uint8Array.from(sector.commR),
        commRNew: Uint8Array.from(u.newCommR),
        commDNew: computed.commD,
        proof: new Uint8Array(Buffer.from(u.proof, "base64")),
      });
      return ok
        ? { number: u.number, ok: true }
        : fail(
            u.number,
            "invalid-proof",
            "invalid replica update proof: verify_empty_sector_update_proof rejected it for the sector's CommR, the new CommR and its deals' CommD",
          );
    } catch (err) {
      if (err instanceof InvalidProofError)
        return fail(u.number, "invalid-proof", `invalid replica update proof: ${err.reason}`);
      return fail(u.number, "unverifiable", `replica update proof could not be verified: ${(err as Error).message}`);
    }
  }

  /** What forbids updating this sector as it is on chain now; undefined when nothing does. */
  private sectorProblem(sector: OnChainSector, u: ReplicaUpdateParams): SectorResult | undefined {
    if (sector.sectorKeyCommR) return fail(u.number, "already-updated", `sector ${u.number} was updated already`);
    if ((sector.dealIds ?? []).length > 0)
      return fail(
        u.number,
        "sector-has-deals",
        `sector ${u.number} holds deals ${sector.dealIds!.join(", ")}; only a CC sector can be updated`,
      );
    if (sector.deadline !== u.deadline || sector.partition !== u.partition)
      return fail(
        u.number,
        "unknown-partition",
        `sector ${u.number} is in deadline ${sector.deadline} partition ${sector.partition}, not ${u.deadline}/${u.partition}`,
      );
    return undefined;
  }

  /**
   * In the epoch's transaction: each update's checked verdict, the rules that depend on the chain as it is
   * now (the sector, its faults, its deadline, the deals), then the new CommR and the deals' activation.
   * The message succeeds if any update does.
   */
  execute(msg: ReplicaUpdateMessage, epoch: number, verdicts: SectorVerdicts | undefined): Execution {
    const miner = this.db.miner(msg.from);
    const results: SectorResult[] = [];
    const seen = new Set<number>();
    for (const u of msg.updates) {
      let result: SectorResult;
      if (!miner) result = fail(u.number, "unknown-miner", `unknown miner f0${msg.from}`);
      else if (seen.has(u.number)) result = fail(u.number, "duplicate", `sector ${u.number} appears twice`);
      else {
        const verdict = verdicts?.get(u.number) ?? fail(u.number, "internal", "the update was not checked");
        result = verdict.ok ? this.apply(miner, u, epoch) : verdict;
      }
      seen.add(u.number);
      results.push(result);
    }
    for (const r of results)
      if (!r.ok)
        log.warn(
          `ProveReplicaUpdates of ${sectorName({ Miner: msg.from, Number: r.number })} rejected at epoch ${epoch}: ${r.error}`,
        );
    if (results.some((r) => r.ok)) return { ok: true, results };
    const first = results[0];
    return first
      ? { ...rejected(first.code ?? "internal", first.error ?? "rejected"), results }
      : { ...rejected("malformed", "no updates in the message"), results };
  }

  private apply(miner: StoredMiner, u: ReplicaUpdateParams, epoch: number): SectorResult {
    const sector = this.db.sector(miner.actor, u.number);
    if (!sector) return fail(u.number, "unknown-sector", `sector ${u.number} is not active`);
    const problem = this.sectorProblem(sector, u);
    if (problem) return problem;
    if (this.db.isFaulty(miner.actor, u.number))
      return fail(u.number, "sector-faulty", `sector ${u.number} is faulty; recover it before updating it`);
    const current = deadlineAt(this.settings, miner, epoch);
    const shape = {
      wpostChallengeWindow: this.settings.WPoStChallengeWindow,
      wpostPeriodDeadlines: this.settings.WPoStPeriodDeadlines,
    };
    if (!deadlineIsMutable(current, sector.deadline, shape))
      return fail(
        u.number,
        "immutable-deadline",
        `deadline ${sector.deadline} of sector ${u.number} is being proven now or next (current deadline ${current.index} at epoch ${epoch}); it cannot change`,
      );
    const dealProblem = this.market.checkUpdateDeals(miner.actor, u.number, u.dealIds, epoch, sector.expiration);
    if (dealProblem) return dealProblem;
    this.db.putSector(miner.actor, {
      ...sector,
      commR: [...u.newCommR],
      sectorKeyCommR: [...sector.commR],
      dealIds: [...u.dealIds],
    });
    this.market.activate(u.number, u.dealIds, epoch);
    log.info(
      `${sectorName({ Miner: miner.actor, Number: u.number })} updated at epoch ${epoch}: new CommR, deals ${u.dealIds.join(", ")}`,
    );
    return { number: u.number, ok: true };
  }
}
