import { childLogger } from "../core/log/index.ts";
import {
  type DeadlineInfo,
  type DeadlineOutcome,
  type FaultRecord,
  isUpgraded,
  type MessageLookup,
  type PoStMessage,
  type PoStRecord,
  type ProvingPartition,
  type ProvingSector,
  type ProvingStats,
} from "../core/sector/chain.ts";
import { deadlineAt } from "./clock.ts";
import type { DevnetSettings } from "./config.ts";
import { type Execution, rejected } from "./mpool.ts";
import type { Beacon } from "./randomness.ts";
import { type DevnetStore, K, type StoredMiner } from "./store.ts";
import { InvalidProofError, type PoStVerifier } from "./verifier.ts";

const log = childLogger("devnet");

/** A WindowPoSt submission checked before the epoch's transaction: accepted, or refused with the reason. */
export type PoStVerdict = { ok: true } | ReturnType<typeof rejected>;

/**
 * WindowPoSt judging: submissions are checked against the deadline open when they execute and verified;
 * every deadline instance that closes without a proof for a partition makes that partition's sectors
 * faulty. The outcome of each instance is kept as a PoStRecord.
 */
export class WindowPoStJudge {
  constructor(
    private readonly db: DevnetStore,
    private readonly settings: DevnetSettings,
    private readonly verifier: PoStVerifier,
    private readonly beacon: Beacon,
  ) {}

  provingPartitions(actor: number, open: number): ProvingPartition[] {
    const m = this.db.miner(actor);
    if (!m) throw new Error(`unknown miner f0${actor}`);
    return this.partitionsAt(m, deadlineAt(this.settings, m, open));
  }

  faults(actor: number): FaultRecord[] {
    return this.db.faults(actor).sort((a, b) => a.number - b.number);
  }

  postRecords(actor: number, limit: number): PoStRecord[] {
    return this.db.latestPosts(actor, limit);
  }

  provingStats(actor: number): ProvingStats {
    return this.db.stats(actor);
  }

  /** Epochs at which a deadline closes: whether or not anyone proves it, a miner with sectors is judged then. */
  nextEvents(after: number): number[] {
    return this.db
      .miners()
      .filter((m) => this.db.kv.count(K.sectors(m.actor)) > 0)
      .map((m) => deadlineAt(this.settings, m, after).close);
  }

  /** Checks a WindowPoSt submission against the deadline open at `epoch` and verifies its proof. */
  async check(msg: PoStMessage, epoch: number): Promise<PoStVerdict> {
    const m = this.db.miner(msg.from);
    if (!m) return rejected("unknown-miner", `unknown miner f0${msg.from}`);
    const post = msg.post;
    const dl = deadlineAt(this.settings, m, epoch);
    if (post.open !== dl.open || post.deadline !== dl.index) {
      return rejected(
        "wrong-deadline",
        `the proof is for deadline ${post.deadline} opening at epoch ${post.open}, but at epoch ${epoch} deadline ${dl.index} (open ${dl.open}..${dl.close}) is current`,
      );
    }
    if (post.partitions.length === 0) return rejected("malformed", "no partitions in the submission");
    const parts = this.partitionsAt(m, dl);
    const toProve: ProvingSector[] = [];
    const seen = new Set<number>();
    for (const p of post.partitions) {
      const part = parts[p.index];
      if (!part || part.sectors.length === 0)
        return rejected("unknown-partition", `deadline ${dl.index} has no partition ${p.index} with sectors to prove`);
      if (seen.has(p.index)) return rejected("duplicate", `partition ${p.index} appears twice`);
      seen.add(p.index);
      if (part.proven)
        return rejected(
          "already-proven",
          `partition ${p.index} of deadline ${dl.index} is already proven in this period`,
        );
      const numbers = new Set(part.sectors.map((s) => s.number));
      const faults = new Set(part.faults);
      const strange = p.skipped.find((n) => !numbers.has(n)) ?? p.recovered.find((n) => !faults.has(n));
      if (strange !== undefined)
        return rejected(
          "unknown-partition",
          `sector ${strange} is not a ${p.skipped.includes(strange) ? "sector" : "faulty sector"} of partition ${p.index}`,
        );
      const recovered = new Set(p.recovered);
      const skipped = new Set(p.skipped);
      for (const s of part.sectors)
        if (!skipped.has(s.number) && (!faults.has(s.number) || recovered.has(s.number))) toProve.push(s);
    }
    toProve.sort((a, b) => a.number - b.number);
    if (toProve.length === 0)
      return post.proofs.length === 0
        ? { ok: true }
        : rejected("malformed", "proofs given for a submission that proves no sector");
    if (post.proofs.length === 0) return rejected("malformed", `no proof for the ${toProve.length} sector(s) to prove`);
    const wrongType = post.proofs.find((p) => p.postProof !== m.windowPoStProofType);
    if (wrongType)
      return rejected(
        "wrong-proof-type",
        `PoSt proof type ${wrongType.postProof} does not fit the miner (expects ${m.windowPoStProofType})`,
      );
    try {
      const ok = await this.verifier.verifyWindowPoSt({
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
        : rejected(
            "invalid-proof",
            `invalid WindowPoSt: verify_window_post rejected it for sectors ${toProve.map((s) => s.number).join(",")}`,
          );
    } catch (err) {
      if (err instanceof InvalidProofError) return rejected("invalid-proof", `invalid WindowPoSt: ${err.reason}`);
      return rejected("unverifiable", `WindowPoSt could not be verified: ${(err as Error).message}`);
    }
  }

  /** Applies a checked submission: its partitions proven, skipped sectors declared faulty, recoveries made. */
  execute(m: MessageLookup, msg: PoStMessage, epoch: number, verdict: PoStVerdict): Execution {
    const miner = this.db.miner(msg.from);
    if (!miner || !verdict.ok) {
      const refusal = verdict.ok ? rejected("unknown-miner", "unknown miner") : verdict;
      if (miner) {
        const dl = deadlineAt(this.settings, miner, msg.post.open);
        const record = this.db.post(miner.actor, dl.open) ?? newRecord(miner, dl);
        record.rejectedProofs++;
        this.db.putPost(record);
        this.db.bumpStats(miner.actor, { windowPoStsRejected: 1 });
      }
      log.warn(
        `SubmitWindowedPoSt of f0${msg.from} (deadline ${msg.post.deadline}) rejected at epoch ${epoch}: ${refusal.error}`,
      );
      return refusal;
    }
    const dl = deadlineAt(this.settings, miner, epoch);
    const record = this.db.post(miner.actor, dl.open) ?? newRecord(miner, dl);
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
        if (this.db.isFaulty(miner.actor, n)) continue;
        this.db.putFault(miner.actor, {
          number: n,
          since: epoch,
          kind: "declared",
          reason: `skipped by the miner's WindowPoSt in deadline ${dl.index}`,
        });
        record.declaredFaults.push(n);
        declared++;
      }
      for (const n of p.recovered) {
        this.db.delFault(miner.actor, n);
        record.recovered.push(n);
        recovered++;
      }
    }
    record.verifiedProofs++;
    record.partitions.sort((a, b) => a.index - b.index);
    this.db.putPost(record);
    this.db.bumpStats(miner.actor, { windowPoStsVerified: 1, faultsDeclared: declared, recoveries: recovered });
    log.info(
      `WindowPoSt of f0${miner.actor} deadline ${dl.index} verified at epoch ${epoch}: partitions ${msg.post.partitions.map((p) => p.index).join(",")}` +
        (declared ? `, ${declared} fault(s) declared` : "") +
        (recovered ? `, ${recovered} sector(s) recovered` : ""),
    );
    return { ok: true };
  }

  /** Judges every deadline instance that closed by `epoch`: unproven partitions' sectors become faulty. */
  closeDeadlines(epoch: number): void {
    for (const m of this.db.miners()) {
      let through = this.db.closedThrough(m.actor) ?? epoch;
      for (
        let dl = deadlineAt(this.settings, m, through);
        dl.close <= epoch;
        dl = deadlineAt(this.settings, m, dl.close)
      ) {
        this.judgeDeadline(m, dl);
        through = dl.close;
      }
      this.db.putClosedThrough(m.actor, through);
    }
  }

  private judgeDeadline(m: StoredMiner, dl: DeadlineInfo): void {
    const parts = this.partitionsAt(m, dl).filter((p) => p.sectors.length > 0);
    if (parts.length === 0) return;
    const record = this.db.post(m.actor, dl.open) ?? newRecord(m, dl);
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
        if (this.db.isFaulty(m.actor, s.number)) continue;
        this.db.putFault(m.actor, {
          number: s.number,
          since: dl.close,
          kind: "detected",
          reason: `no WindowPoSt for partition ${p.index} of deadline ${dl.index} (epochs ${dl.open}..${dl.close})`,
        });
        record.detectedFaults.push(s.number);
      }
    }
    const outcome: DeadlineOutcome = missed ? "missed" : anyFaulty ? "partially-faulty" : "proven";
    record.outcome = outcome;
    record.partitions.sort((a, b) => a.index - b.index);
    this.db.putPost(record);
    this.db.bumpStats(m.actor, { faultsDetected: record.detectedFaults.length, deadlinesMissed: missed ? 1 : 0 });
    if (missed) {
      log.warn(
        `f0${m.actor} missed WindowPoSt in deadline ${dl.index} (epochs ${dl.open}..${dl.close}): ${record.detectedFaults.length} sector(s) now faulty`,
      );
    }
  }

  /**
   * The partitions of a deadline instance with the sectors it must prove: those active by its challenge
   * epoch (a sector activated later is first proven in the next period).
   */
  private partitionsAt(m: StoredMiner, dl: DeadlineInfo): ProvingPartition[] {
    const state = this.db.deadlines(m.actor)[dl.index];
    const record = this.db.post(m.actor, dl.open);
    return (state?.partitions ?? []).map((numbers, index) => {
      const sectors: ProvingSector[] = [];
      const faults: number[] = [];
      for (const n of numbers) {
        const s = this.db.sector(m.actor, n);
        if (!s || s.activation > dl.challenge) continue;
        sectors.push({ number: s.number, sealProof: s.sealProof, commR: s.commR, upgraded: isUpgraded(s) });
        if (this.db.isFaulty(m.actor, n)) faults.push(n);
      }
      return { index, sectors, faults, proven: record?.partitions.find((p) => p.index === index)?.proven ?? false };
    });
  }
}

function newRecord(m: StoredMiner, dl: DeadlineInfo): PoStRecord {
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
