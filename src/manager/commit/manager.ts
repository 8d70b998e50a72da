import type {
  AllocatedSector,
  PollStateResp,
  PreCommitOnChainInfo,
  ProofOnChainInfo,
  SectorID,
  SubmitResp,
  WaitSeedResp,
} from "../../core/sector/index.ts";
import { CommitBatcher } from "./batcher.ts";
import type { CommitDeps } from "./deps.ts";
import type { BatchKind } from "./kinds.ts";
import { CommitMessages } from "./message-state.ts";
import type { CommitKind } from "./policy.ts";
import { CommitSubmissions } from "./submissions.ts";

export type { CommitDeps };

/**
 * Commitments, as the sealer API serves them: SubmitPreCommit/SubmitProof checks and acceptance
 * (submissions.ts), the batchers that turn accepted submissions into chain messages through a
 * transactional outbox (batcher.ts), and the Poll* answers (message-state.ts).
 */
export class CommitManager {
  private readonly submissions: CommitSubmissions;
  private readonly messages: CommitMessages;
  private readonly batcher: CommitBatcher;

  constructor(deps: CommitDeps) {
    const kv = deps.store.collection("common");
    const now = deps.now ?? Date.now;
    this.messages = new CommitMessages(deps, kv);
    this.batcher = new CommitBatcher(deps, kv, now);
    this.submissions = new CommitSubmissions(deps, kv, this.messages, now, (actor, kind) => {
      void this.batcher.kick(actor, kind);
    });
  }

  submitPreCommit(sector: AllocatedSector, info: PreCommitOnChainInfo, reset: boolean): Promise<SubmitResp> {
    return this.submissions.submitPreCommit(sector, info, reset);
  }

  pollPreCommitState(sid: SectorID): Promise<PollStateResp> {
    return this.messages.pollPreCommit(sid);
  }

  waitSeed(sid: SectorID): Promise<WaitSeedResp> {
    return this.submissions.waitSeed(sid);
  }

  submitProof(sid: SectorID, proof: ProofOnChainInfo, reset: boolean): Promise<SubmitResp> {
    return this.submissions.submitProof(sid, proof, reset);
  }

  pollProofState(sid: SectorID): Promise<PollStateResp> {
    return this.messages.pollProof(sid);
  }

  /** Drops a sector's pending marks (abort): it will not be put into a batch any more. */
  forget(sid: SectorID): void {
    this.submissions.forget(sid);
  }

  /** Adds a kind of batch message (the snap committer's ProveReplicaUpdates); before start. */
  addKind(kind: BatchKind): void {
    this.batcher.addKind(kind);
  }

  /** Marks a sector as waiting for its `kind` message; call inside the transaction that accepts it. */
  markPending(kind: CommitKind, sid: SectorID, since: number): void {
    this.batcher.markPending(kind, sid, since);
  }

  /** Drops a sector's pending mark of one kind; call inside the caller's transaction. */
  unmarkPending(kind: CommitKind, sid: SectorID): void {
    this.batcher.unmarkPending(kind, sid);
  }

  isPending(kind: CommitKind, sid: SectorID): boolean {
    return this.batcher.isPending(kind, sid);
  }

  /** Whether a built message still waits in the outbox to be pushed. */
  inOutbox(cid: string): boolean {
    return this.batcher.inOutbox(cid);
  }

  /** Starts the per-miner batch checks and pushes anything a crash left in the outbox. */
  start(): Promise<void> {
    return this.batcher.start();
  }

  stop(): void {
    this.batcher.stop();
  }

  /** Checks one miner's batch now (after a submission, on each tick). Concurrent kicks share one run. */
  kick(actor: number, kind: CommitKind, manual = false): Promise<void> {
    return this.batcher.kick(actor, kind, manual);
  }

  pendingCount(actor: number, kind: CommitKind): number {
    return this.batcher.pendingCount(actor, kind);
  }

  /** Counts messages that reached a final state (metrics); cheap, called once per epoch. */
  observeLandings(): Promise<void> {
    return this.batcher.observeLandings();
  }

  /** For tests and the bench: what is waiting in the outbox. */
  outboxSize(): number {
    return this.batcher.outboxSize();
  }
}
