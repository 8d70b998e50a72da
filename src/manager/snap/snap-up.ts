import { childLogger } from "../../core/log/index.ts";
import type {
  AllocatedSnapUpSector,
  AllocateSnapUpSpec,
  SnapUpFetchResult,
  SnapUpOnChainInfo,
} from "../../core/sector/api-snap.ts";
import { type SectorID, type SubmitResp, sectorName } from "../../core/sector/index.ts";
import { allocateSnapUp } from "./allocate.ts";
import { replicaUpdateBatchKind } from "./batch-kind.ts";
import type { CandidateBitfields } from "./candidates.ts";
import { SnapCommitter } from "./committer.ts";
import type { SnapDeps } from "./deps.ts";
import { snapPreFetch } from "./prefetch.ts";
import { CancelledCommitments, returnToCommittedCapacity } from "./revert.ts";
import { submitSnapUpProof } from "./submit.ts";

const log = childLogger("snap");

/** An operator request about a sector the snap module cannot do (message already sent, not a snap sector). */
export class SnapRefusedError extends Error {
  override name = "SnapRefusedError";
}

/** The snap module composed: what the RPC methods, ReportAborted and the daemon's lifecycle call. */
export class SnapUp {
  readonly committer: SnapCommitter;
  private readonly cancelled: CancelledCommitments;

  /** Adds ProveReplicaUpdates to the commit batcher: construct before the commit manager starts. */
  constructor(private readonly deps: SnapDeps) {
    this.cancelled = new CancelledCommitments(deps.store);
    this.committer = new SnapCommitter(deps, this.cancelled);
    deps.commit.addKind(replicaUpdateBatchKind(deps, this.cancelled));
  }

  preFetch(actor: number, dlindex: number | null | undefined): Promise<SnapUpFetchResult> {
    return snapPreFetch(this.deps, actor, dlindex);
  }

  /** One bitfield per deadline (null where none); null when the miner has no candidates at all. */
  candidates(actor: number): CandidateBitfields | null {
    const all = this.deps.candidates.bitfields(actor);
    return all?.some((bf) => bf !== null) ? all : null;
  }

  allocate(spec: AllocateSnapUpSpec): Promise<AllocatedSnapUpSector | null> {
    return allocateSnapUp(this.deps, spec);
  }

  async submit(sid: SectorID, info: SnapUpOnChainInfo): Promise<SubmitResp> {
    const r = await submitSnapUpProof(this.deps, sid, info);
    this.committer.wake(sid);
    return r;
  }

  /**
   * SnapUpCancelCommitment: the sector's ProveReplicaUpdates will not be sent (its pending mark is
   * dropped, and the committer leaves it alone until it is aborted). Refused once the message was built.
   */
  async cancelCommitment(sid: SectorID): Promise<void> {
    const state = this.deps.states.mustOnline(sid);
    if (!state.Upgraded) throw new SnapRefusedError(`${sectorName(sid)} is not being snap-updated`);
    if (state.UpgradeMessageID)
      throw new SnapRefusedError(
        `the ProveReplicaUpdates of ${sectorName(sid)} was already sent (${state.UpgradeMessageID}); it cannot be called back`,
      );
    await this.deps.store.durable(() => {
      this.deps.commit.unmarkPending("snap", sid);
      this.cancelled.add(sid);
    });
    log.info(`${sectorName(sid)}: snap commitment cancelled; abort the sector to return it to committed capacity`);
  }

  /**
   * ReportAborted of a snap sector: the snap ends, the sector stays the CC sector it is on chain (offline,
   * finalized, deals released). Refused while its ProveReplicaUpdates may still land.
   */
  async abort(sid: SectorID, reason: string): Promise<void> {
    const state = this.deps.states.mustOnline(sid);
    if (state.UpgradeMessageID)
      throw new SnapRefusedError(
        `${sectorName(sid)} cannot be aborted: its ProveReplicaUpdates ${state.UpgradeMessageID} was sent and may land; wait for the snap committer`,
      );
    await returnToCommittedCapacity(this.deps, this.cancelled, sid, `aborted: ${reason}`);
  }

  start(): void {
    this.committer.start();
  }

  stop(): void {
    this.committer.stop();
  }
}
