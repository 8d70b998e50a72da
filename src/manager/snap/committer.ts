import { rmSync } from "node:fs";
import { childLogger } from "../../core/log/index.ts";
import { ExitCode, type RejectionCode } from "../../core/sector/chain.ts";
import { type SectorID, type SectorState, SectorWorkerJob, sectorKey, sectorName } from "../../core/sector/index.ts";
import type { SnapDeps } from "./deps.ts";
import { type SnapMiner, upgradedInfo } from "./records.ts";
import { type CancelledCommitments, returnToCommittedCapacity } from "./revert.ts";

const log = childLogger("snap");

/** Refusals the same update overcomes later: the deadline thaws, the chain gets its parameters. */
const RESEND: ReadonlySet<RejectionCode> = new Set<RejectionCode>(["immutable-deadline", "unverifiable"]);

/** What one look at a sector asks for next: its next look after PollInterval, or after a failure's wait. */
type Outcome = "poll" | "api-failure" | "local-failure" | "done";

/** A step that failed because the chain could not be asked (APIFailureWait), not because of a local error. */
class ChainCallError extends Error {}

async function ask<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw new ChainCallError(`${what}: ${(err as Error).message}`);
  }
}

/**
 * The snap committer (the original's snapup_commit.go), for every online snap sector whose update was
 * accepted: while its ProveReplicaUpdates waits in the batcher there is nothing to do; once sent, the
 * message is followed every Retry.PollInterval. Landed and `MessageConfidence` epochs deep, the update is
 * recorded (UpgradeLandedEpoch); `ReleaseConfidence` epochs later the old CC sealed file and cache are
 * removed (CleanupCCData) and the sector is finalized (offline). A refusal because the deadline froze
 * meanwhile queues the update again; any other refusal returns the sector to committed capacity.
 *
 * Every step starts from the durable state and writes its result durably before the next, so a kill -9
 * resumes where it stopped; the message itself goes through the batcher's outbox, never twice. Failures
 * wait APIFailureWait (chain) or LocalFailureWait (store, files); after Retry.MaxAttempts failures in a row
 * a sector is left alone until the manager restarts, as in the original.
 */
export class SnapCommitter {
  private readonly next = new Map<string, { at: number; failures: number; stopped: boolean }>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly deps: SnapDeps,
    private readonly cancelled: CancelledCommitments,
  ) {}

  /** Looks at due sectors every `everyMs` (and whenever tick is called, e.g. each epoch). */
  start(everyMs = 1000): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), everyMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One pass over the snap sectors that are due. Concurrent calls share one pass. */
  tick(): Promise<void> {
    this.running ??= this.pass()
      .catch((err) => log.error("snap committer pass failed:", err))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  /** Looks at a sector at the next pass, whatever its schedule (a new submission, the operator). */
  wake(sid: SectorID): void {
    this.next.delete(sectorKey(sid));
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  private async pass(): Promise<void> {
    const miners = new Map(this.deps.miners().map((m) => [m.actor, m]));
    // A page of states at a time: the online collection of a large provider holds thousands being sealed.
    for (const state of this.deps.states.each("online", SectorWorkerJob.SnapUp)) {
      const miner = miners.get(state.ID.Miner);
      if (!miner || !upgradedInfo(state) || this.cancelled.has(state.ID)) continue;
      const key = sectorKey(state.ID);
      const slot = this.next.get(key) ?? { at: 0, failures: 0, stopped: false };
      if (slot.stopped || slot.at > this.now()) continue;
      let outcome: Outcome;
      try {
        outcome = await this.handle(state, miner);
      } catch (err) {
        outcome = err instanceof ChainCallError ? "api-failure" : "local-failure";
        log.warn(`${sectorName(state.ID)}: snap commit step failed (${outcome}): ${(err as Error).message}`);
      }
      this.schedule(state.ID, slot, outcome, miner);
    }
  }

  private schedule(sid: SectorID, slot: { at: number; failures: number; stopped: boolean }, o: Outcome, m: SnapMiner) {
    const key = sectorKey(sid);
    if (o === "done") return void this.next.delete(key);
    const r = m.retry;
    if (o === "poll") slot.failures = 0;
    else slot.failures++;
    if (r.maxAttempts !== undefined && slot.failures >= r.maxAttempts) {
      slot.stopped = true;
      log.error(
        `${sectorName(sid)}: ${slot.failures} snap commit attempts failed in a row (Retry.MaxAttempts); left alone until the manager restarts`,
      );
    }
    const wait = o === "poll" ? r.pollIntervalMs : o === "api-failure" ? r.apiFailureWaitMs : r.localFailureWaitMs;
    slot.at = this.now() + wait;
    this.next.set(key, slot);
  }

  private async handle(state: SectorState, miner: SnapMiner): Promise<Outcome> {
    if (state.UpgradeLandedEpoch !== null) return this.release(state, miner, state.UpgradeLandedEpoch);
    if (state.UpgradeMessageID) return this.follow(state, miner, state.UpgradeMessageID);
    if (!this.deps.commit.isPending("snap", state.ID)) {
      // Accepted updates are queued in the same transaction; this only mends a record changed by hand.
      log.warn(`${sectorName(state.ID)}: accepted snap update was not queued; queueing it`);
      await this.requeue(state.ID, "not queued");
    }
    return "poll";
  }

  private async follow(state: SectorState, miner: SnapMiner, cid: string): Promise<Outcome> {
    const sid = state.ID;
    const look = await ask(`looking up message ${cid}`, () => this.deps.chain.messageLookup(cid));
    if (!look) {
      if (this.deps.commit.inOutbox(cid)) return "poll";
      await this.requeue(sid, `the chain does not know message ${cid}`);
      return "poll";
    }
    if (look.status === "pending" || look.status === "packed") return "poll";
    const result = look.results?.find((r) => r.number === sid.Number);
    if (look.status === "landed" && result?.ok !== false) {
      const head = (await ask("reading the chain head", () => this.deps.chain.head())).epoch;
      const included = look.packedEpoch ?? look.landedEpoch ?? head;
      if (head < included + miner.messageConfidence) return "poll";
      await this.deps.states.updateDurable(sid, (s) => (s.UpgradeLandedEpoch = included));
      log.info(`${sectorName(sid)}: ProveReplicaUpdates ${cid} landed at epoch ${included}; the update is on chain`);
      return this.release({ ...state, UpgradeLandedEpoch: included }, miner, included);
    }
    const code = result?.code ?? look.code;
    const error = result?.error ?? look.error ?? "refused";
    if (look.exitCode === ExitCode.SysErrOutOfGas || look.exitCode === ExitCode.SysErrInsufficientFunds) {
      await this.requeue(sid, `message ${cid} failed with exit code ${look.exitCode}`);
      return "poll";
    }
    if (code && RESEND.has(code)) {
      await this.requeue(sid, `${code}: ${error}`);
      return "poll";
    }
    await returnToCommittedCapacity(
      this.deps,
      this.cancelled,
      sid,
      `ProveReplicaUpdates ${cid} refused: ${code ?? "no code"}: ${error}`,
    );
    return "done";
  }

  /** The update is on chain: after ReleaseConfidence, the CC data goes (CleanupCCData) and the sector is finalized. */
  private async release(state: SectorState, miner: SnapMiner, landed: number): Promise<Outcome> {
    const head = (await ask("reading the chain head", () => this.deps.chain.head())).epoch;
    if (head < landed + miner.releaseConfidence) return "poll";
    const sid = state.ID;
    if (miner.cleanupCCData) this.removeCCData(sid);
    const moved = await this.deps.states.moveOffline(
      sid,
      (s) => (s.Finalized = true),
      () => this.deps.stores.release(sid),
    );
    if (moved) log.info(`${sectorName(sid)}: snap update final; sector finalized`);
    return "done";
  }

  /** Removes the CC replica (sealed file + cache) the update replaced; missing files are fine (a re-run). */
  private removeCCData(sid: SectorID): void {
    const loc = this.deps.indexer.find("normal", sid);
    if (!loc.Found) return;
    const sealed = this.deps.stores.sectorPaths(loc.Instance.SealedFile, sid);
    const cache = this.deps.stores.sectorPaths(loc.Instance.CacheDir, sid);
    if (!sealed || !cache)
      throw new Error(`${sectorName(sid)}: its CC data is in a store not configured here (${loc.Instance.SealedFile})`);
    rmSync(sealed.file, { force: true });
    rmSync(cache.cache, { recursive: true, force: true });
    log.info(`${sectorName(sid)}: CC data removed (${sealed.file}, ${cache.cache})`);
  }

  /** The update goes into a later batch again (its last message is final and did not apply it). */
  private async requeue(sid: SectorID, why: string): Promise<void> {
    const now = this.now();
    await this.deps.store.durable(() => {
      this.deps.states.update(sid, (s) => (s.UpgradeMessageID = null));
      this.deps.commit.markPending("snap", sid, now);
    });
    log.info(`${sectorName(sid)}: replica update queued again (${why})`);
    void this.deps.commit.kick(sid.Miner, "snap");
  }
}
