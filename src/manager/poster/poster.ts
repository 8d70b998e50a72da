import { childLogger } from "../../core/log/index.ts";
import {
  type DeadlineInfo,
  messageId,
  type PoStChain,
  type PoStMessage,
  type ProvingPartition,
} from "../../core/sector/chain.ts";
import type { Collection, KVStore } from "../../core/store/index.ts";
import { Semaphore } from "../../core/sync/semaphore.ts";
import type { PoStReplica, WindowPoStProver } from "../prover.ts";
import { locateReplica, type SectorLocator, type StorePaths } from "../stores/locate.ts";
import { checkReplica } from "./check.ts";
import type { WindowPoStMetrics } from "./metrics.ts";
import { latestRecords, recordKey } from "./records.ts";

const log = childLogger("poster");

/** Per-miner settings, from [[Miners]].PoSt and [Common.Proving]. */
export interface PoSterMiner {
  actor: number;
  enabled: boolean;
  strictCheck: boolean;
  challengeConfidence: number;
  submitConfidence: number;
  maxRecoverSectorLimit: number;
  maxPartitionsPerPoStMessage: number;
}

export interface ProvingLimits {
  parallelCheckLimit: number;
  singleCheckTimeoutMs: number;
  partitionCheckTimeoutMs: number;
}

export interface PoSterDeps {
  chain: PoStChain;
  store: KVStore;
  locator: SectorLocator;
  storePaths: StorePaths;
  prover: WindowPoStProver;
  miners: PoSterMiner[];
  limits: ProvingLimits;
  metrics?: WindowPoStMetrics;
  /** Strict checks: one vanilla proof per sector for the deadline's challenges. */
  vanillaCheck?: (actor: number, postProof: number, randomness: Uint8Array, replica: PoStReplica) => Promise<void>;
  now?: () => number;
}

export type DeadlineStatus = "proving" | "submitted" | "proven" | "failed" | "nothing-to-prove" | "all-faulty";

export interface SubmissionRecord {
  partitions: number[];
  cid: string;
  message: PoStMessage;
  status: "pushed" | "landed" | "failed";
  error?: string;
  sectors: number;
  skipped: number[];
  recovered: number[];
}

/** The poster's own view of one deadline instance (collection "prover", key poster/<actor>/<open>). */
export interface PoSterRecord {
  actor: number;
  deadline: number;
  open: number;
  close: number;
  challenge: number;
  status: DeadlineStatus;
  attempts: number;
  startedAt: number;
  finishedAt?: number;
  /** Check + prove time in ms (what the duration metric observes). */
  provingMs?: number;
  prover: string;
  submissions: SubmissionRecord[];
  /** Sectors found unprovable, with the reason. */
  bad: { number: number; reason: string }[];
  error?: string;
}

const MAX_ATTEMPTS = 3;
/** Re-proving after the prover reports faults: lotus does the same loop. */
const MAX_FAULT_ROUNDS = 3;
/** ChallengeConfidence 0 means the original's default. */
const DEFAULT_CHALLENGE_CONFIDENCE = 10;

/**
 * The WindowPoSt scheduler. For each miner, at every epoch: find the deadline instance now current; once
 * its challenge epoch plus ChallengeConfidence has passed (never later than the deadline's open), check
 * the sectors of its unproven partitions, prove the good ones, declare the bad ones (skipped) and the
 * healthy faulty ones (recovered), and submit after the deadline opens; then follow the message until it
 * lands. Each step is recorded, so a restarted manager picks up a submitted message instead of proving
 * again, and resumes an interrupted proof while the deadline is still open.
 */
export class PoSter {
  private readonly kv: Collection;
  private readonly inflight = new Map<string, AbortController>();
  private readonly busy = new Set<number>();
  private readonly now: () => number;
  private stopped = false;

  constructor(private readonly deps: PoSterDeps) {
    this.kv = deps.store.collection("prover");
    this.now = deps.now ?? Date.now;
  }

  get proverName(): string {
    return this.deps.prover.name;
  }

  /** Called at every new head; never throws. */
  onEpoch(epoch: number): void {
    if (this.stopped) return;
    for (const m of this.deps.miners) {
      if (!m.enabled || this.busy.has(m.actor)) continue;
      this.busy.add(m.actor);
      this.tickMiner(m, epoch)
        .catch((err) => log.warn(`miner ${m.actor}: poster tick at epoch ${epoch} failed: ${(err as Error).message}`))
        .finally(() => this.busy.delete(m.actor));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const c of this.inflight.values()) c.abort(new Error("the poster is stopping"));
  }

  /** The miner's newest `limit` records, oldest first. */
  records(actor: number, limit = 50): PoSterRecord[] {
    return latestRecords(this.kv, actor, limit);
  }

  private save(r: PoSterRecord): void {
    this.kv.putJSON(recordKey(r.actor, r.open), r);
  }

  private async tickMiner(m: PoSterMiner, epoch: number): Promise<void> {
    const dl = await this.deps.chain.provingDeadline(m.actor);
    // Abort proofs of instances that have closed: they can no longer be submitted.
    for (const [key, ctl] of this.inflight) {
      const [, actor, open] = key.split("/").map(Number);
      if (actor === m.actor && open !== undefined && open < dl.open)
        ctl.abort(new Error(`deadline opening at ${open} has closed`));
    }
    // A message pushed late in the previous deadline may land after it closed.
    const window = this.deps.chain.policy().wpostChallengeWindow;
    const prev = this.kv.getJSON<PoSterRecord>(recordKey(m.actor, dl.open - window));
    if (prev?.status === "submitted") await this.followSubmissions(prev);
    const record = this.kv.getJSON<PoSterRecord>(recordKey(m.actor, dl.open));
    if (record?.status === "submitted") {
      await this.followSubmissions(record);
      return;
    }
    if (record && record.status !== "proving" && !(record.status === "failed" && record.attempts < MAX_ATTEMPTS))
      return;
    if (this.inflight.has(recordKey(m.actor, dl.open))) return;
    const confidence = m.challengeConfidence || DEFAULT_CHALLENGE_CONFIDENCE;
    const startAt = Math.min(dl.challenge + confidence, dl.open);
    if (epoch < startAt) return;
    const ctl = new AbortController();
    const key = recordKey(m.actor, dl.open);
    this.inflight.set(key, ctl);
    this.proveDeadline(m, dl, record, ctl.signal)
      .catch((err) => log.warn(`miner ${m.actor} deadline ${dl.index}: ${(err as Error).message}`))
      .finally(() => this.inflight.delete(key));
  }

  private async followSubmissions(r: PoSterRecord): Promise<void> {
    for (const s of r.submissions.filter((x) => x.status === "pushed")) {
      const look = await this.deps.chain.messageLookup(s.cid);
      if (!look) {
        // Recorded but never reached the chain (crash between the two): push the same message again.
        await this.deps.chain.pushMessage(s.message);
        continue;
      }
      if (look.status === "landed") s.status = "landed";
      else if (look.status === "failed") {
        s.status = "failed";
        s.error = look.error ?? `exit code ${look.exitCode}`;
      }
    }
    if (r.submissions.some((s) => s.status === "pushed")) {
      this.save(r);
      return;
    }
    const failed = r.submissions.filter((s) => s.status === "failed");
    r.finishedAt = this.now();
    if (failed.length === 0) {
      r.status = "proven";
      log.info(
        `miner ${r.actor} deadline ${r.deadline}: WindowPoSt landed for partitions ${r.submissions.flatMap((s) => s.partitions).join(",")}` +
          ` (${r.submissions.reduce((n, s) => n + s.sectors, 0)} sector(s) proven, ${r.bad.length} faulty)`,
      );
    } else {
      r.status = "failed";
      r.error = failed.map((s) => s.error).join("; ");
      log.error(`miner ${r.actor} deadline ${r.deadline}: WindowPoSt rejected by the chain: ${r.error}`);
    }
    this.deps.metrics?.windowPoStOutcome.inc({ miner: r.actor, deadline: r.deadline, outcome: r.status });
    this.save(r);
  }

  private async proveDeadline(
    m: PoSterMiner,
    dl: DeadlineInfo,
    previous: PoSterRecord | undefined,
    signal: AbortSignal,
  ): Promise<void> {
    const { chain } = this.deps;
    const r: PoSterRecord = {
      actor: m.actor,
      deadline: dl.index,
      open: dl.open,
      close: dl.close,
      challenge: dl.challenge,
      status: "proving",
      attempts: (previous?.attempts ?? 0) + 1,
      startedAt: this.now(),
      prover: this.deps.prover.name,
      submissions: [],
      bad: [],
    };
    const info = await chain.minerInfo(m.actor);
    if (!info) throw new Error(`miner ${m.actor} is not on the chain`);
    const partitions = (await chain.provingPartitions(m.actor, dl.open)).filter(
      (p) => p.sectors.length > 0 && !p.proven,
    );
    if (partitions.length === 0) {
      r.status = "nothing-to-prove";
      r.finishedAt = this.now();
      this.save(r);
      return;
    }
    this.save(r);
    const started = performance.now();
    try {
      const randomness = await chain.windowPoStRandomness(m.actor, dl.challenge);
      const chunk = m.maxPartitionsPerPoStMessage > 0 ? m.maxPartitionsPerPoStMessage : partitions.length;
      for (let i = 0; i < partitions.length; i += chunk) {
        const group = partitions.slice(i, i + chunk);
        const sub = await this.proveGroup(
          m,
          info.windowPoStProofType,
          info.sectorSize,
          dl,
          group,
          randomness,
          r,
          signal,
        );
        if (sub) r.submissions.push(sub);
      }
      r.provingMs = Math.round(performance.now() - started);
      this.deps.metrics?.windowPoStDuration.observe(r.provingMs / 1000, { miner: m.actor, deadline: dl.index });
      if (r.submissions.length === 0) {
        r.status = "all-faulty";
        r.finishedAt = this.now();
        log.warn(`miner ${m.actor} deadline ${dl.index}: every sector is faulty and none recovered; nothing to submit`);
        this.deps.metrics?.windowPoStOutcome.inc({ miner: m.actor, deadline: dl.index, outcome: r.status });
        this.save(r);
        return;
      }
      await this.waitForEpoch(dl.open + m.submitConfidence, signal);
      for (const s of r.submissions) await chain.pushMessage(s.message);
      r.status = "submitted";
      this.save(r);
      log.info(
        `miner ${m.actor} deadline ${dl.index}: WindowPoSt submitted in ${r.submissions.length} message(s) after ${r.provingMs} ms (${this.deps.prover.name})`,
      );
    } catch (err) {
      r.status = "failed";
      r.error = (err as Error).message;
      r.finishedAt = this.now();
      r.provingMs = Math.round(performance.now() - started);
      this.deps.metrics?.windowPoStOutcome.inc({ miner: m.actor, deadline: dl.index, outcome: "failed" });
      this.save(r);
      log.error(`miner ${m.actor} deadline ${dl.index}: WindowPoSt attempt ${r.attempts} failed: ${r.error}`);
    }
  }

  /** Checks, proves and builds the message for one group of partitions; undefined when nothing to send. */
  private async proveGroup(
    m: PoSterMiner,
    postProof: number,
    sectorSize: number,
    dl: DeadlineInfo,
    group: ProvingPartition[],
    randomness: Uint8Array,
    r: PoSterRecord,
    signal: AbortSignal,
  ): Promise<SubmissionRecord | undefined> {
    const checked = await this.checkPartitions(m, postProof, sectorSize, group, randomness, signal);
    for (const b of checked.bad) r.bad.push(b);
    let good = checked.good;
    let recoveries = 0;
    const recovered = new Set<number>();
    const faults = new Set(group.flatMap((p) => p.faults));
    good = good.filter((rep) => {
      if (!faults.has(rep.sectorId)) return true;
      if (m.maxRecoverSectorLimit > 0 && recoveries >= m.maxRecoverSectorLimit) return false;
      recoveries++;
      recovered.add(rep.sectorId);
      return true;
    });
    const skipped = new Set(checked.bad.map((b) => b.number).filter((n) => !faults.has(n)));

    let proofs: { postProof: number; proof: string }[] = [];
    for (let round = 1; good.length > 0; round++) {
      if (signal.aborted) throw signal.reason;
      const out = await this.deps.prover.generateWindowPoSt(
        {
          minerId: m.actor,
          proofType: postProof,
          deadline: dl.index,
          partitions: group.map((p) => p.index),
          replicas: good,
          seed: randomness,
        },
        signal,
      );
      if (out.faults.length === 0) {
        proofs = out.proofs.map((p) => ({ postProof: p.postProof, proof: Buffer.from(p.proof).toString("base64") }));
        break;
      }
      if (round >= MAX_FAULT_ROUNDS)
        throw new Error(`the prover kept finding faulty sectors (${out.faults.join(",")}) after ${round} rounds`);
      log.warn(
        `miner ${m.actor} deadline ${dl.index}: the prover could not read sector(s) ${out.faults.join(",")}; proving again without them`,
      );
      const drop = new Set(out.faults);
      for (const n of drop) {
        r.bad.push({ number: n, reason: "the prover could not generate its vanilla proof" });
        if (recovered.delete(n)) continue;
        if (!faults.has(n)) skipped.add(n);
      }
      good = good.filter((rep) => !drop.has(rep.sectorId));
    }
    if (good.length === 0 && skipped.size === 0) return undefined;
    const byPartition = (numbers: Set<number>, p: ProvingPartition) =>
      p.sectors.filter((s) => numbers.has(s.number)).map((s) => s.number);
    const message: PoStMessage = {
      from: m.actor,
      nonce: dl.open * 64 + r.attempts * 8 + (r.submissions.length % 8),
      method: "SubmitWindowedPoSt",
      post: {
        deadline: dl.index,
        open: dl.open,
        partitions: group.map((p) => ({
          index: p.index,
          skipped: byPartition(skipped, p),
          recovered: byPartition(recovered, p),
        })),
        proofs,
      },
    };
    return {
      partitions: group.map((p) => p.index),
      cid: messageId(message),
      message,
      status: "pushed",
      sectors: good.length,
      skipped: [...skipped].sort((a, b) => a - b),
      recovered: [...recovered].sort((a, b) => a - b),
    };
  }

  /** Locates and checks every sector of the partitions, ParallelCheckLimit at a time. */
  async checkPartitions(
    m: { actor: number; strictCheck: boolean },
    postProof: number,
    sectorSize: number,
    group: ProvingPartition[],
    randomness: Uint8Array,
    signal?: AbortSignal,
  ): Promise<{ good: PoStReplica[]; bad: { number: number; reason: string }[] }> {
    const { limits, locator, storePaths, vanillaCheck } = this.deps;
    const sem = new Semaphore(Math.max(1, limits.parallelCheckLimit));
    const sectors = group.flatMap((p) => p.sectors);
    // PartitionCheckTimeout bounds the whole group: sectors not checked by then count as not provable.
    const budget = new AbortController();
    const timer = setTimeout(() => budget.abort(), limits.partitionCheckTimeoutMs * Math.max(1, group.length));
    const stop = signal ? AbortSignal.any([signal, budget.signal]) : budget.signal;
    const timedOut = {
      reason: `not checked within PartitionCheckTimeout (${limits.partitionCheckTimeoutMs} ms per partition)`,
    };
    const results = await Promise.all(
      sectors.map(async (s) => {
        let release: () => void;
        try {
          release = await sem.acquire(stop);
        } catch (err) {
          if (signal?.aborted) throw err;
          return { number: s.number, ...timedOut };
        }
        try {
          const located = await locateReplica(locator, storePaths, m.actor, s);
          if (!located.ok) return { number: s.number, reason: located.reason };
          const reason = await checkReplica(located.replica, {
            sectorSize,
            timeoutMs: limits.singleCheckTimeoutMs,
            strict: m.strictCheck && vanillaCheck !== undefined,
            vanilla: vanillaCheck && ((rep) => vanillaCheck(m.actor, postProof, randomness, rep)),
          });
          if (budget.signal.aborted) return { number: s.number, ...timedOut };
          return reason ? { number: s.number, reason } : { number: s.number, replica: located.replica };
        } finally {
          release();
        }
      }),
    ).finally(() => clearTimeout(timer));
    const good: PoStReplica[] = [];
    const bad: { number: number; reason: string }[] = [];
    for (const res of results) {
      if ("replica" in res && res.replica) good.push(res.replica);
      else bad.push({ number: res.number, reason: (res as { reason: string }).reason });
    }
    for (const b of bad) log.warn(`miner ${m.actor}: sector ${b.number} is not provable: ${b.reason}`);
    good.sort((a, b) => a.sectorId - b.sectorId);
    return { good, bad };
  }

  private async waitForEpoch(epoch: number, signal: AbortSignal): Promise<void> {
    const blockMs = this.deps.chain.policy().blockTimeMs;
    for (;;) {
      if (signal.aborted) throw signal.reason;
      const head = await this.deps.chain.head();
      if (head.epoch >= epoch) return;
      await new Promise((resolve) =>
        setTimeout(resolve, Math.max(20, Math.min(blockMs, (epoch - head.epoch) * blockMs))),
      );
    }
  }
}
