import { ExitCode, type RejectionCode } from "../../core/sector/chain.ts";
import {
  OnChainState,
  type OnChainStateCode,
  type PollStateResp,
  type SectorID,
  type SectorState,
  sectorName,
} from "../../core/sector/index.ts";
import type { Collection } from "../../core/store/index.ts";
import type { CommitDeps } from "./deps.ts";
import type { CommitKind } from "./policy.ts";
import { KEY } from "./records.ts";

const poll = (State: number, Desc: string | null = null): PollStateResp => ({ State, Desc });

/**
 * What a worker is told about a sector the chain refused, decided by the chain's reason code alone (the
 * message text is only shown): too early is a refusal the same proof overcomes later, so the worker
 * submits again; a bad proof may come from a faulty C2 run, so the worker pauses for the operator to redo
 * C2; anything else, including a record without a code, ends the sector.
 */
export function rejectedSectorState(kind: CommitKind, code: RejectionCode | undefined): OnChainStateCode {
  switch (code) {
    case "too-early":
      return OnChainState.Failed;
    case "invalid-proof":
      return kind === "prove" ? OnChainState.PermFailed : OnChainState.ShouldAbort;
    default:
      return OnChainState.ShouldAbort;
  }
}

/** The Poll* answers: where a sector's PreCommit or ProveCommit message stands on chain. */
export class CommitMessages {
  constructor(
    private readonly deps: CommitDeps,
    private readonly kv: Collection,
  ) {}

  async pollPreCommit(sid: SectorID): Promise<PollStateResp> {
    const state = this.deps.states.mustOnline(sid);
    if (!state.Pre) return poll(OnChainState.NotFound, `no PreCommit was submitted for ${sectorName(sid)}`);
    return this.pollMessage(state, "pre");
  }

  async pollProof(sid: SectorID): Promise<PollStateResp> {
    const state = this.deps.states.mustOnline(sid);
    if (!state.Proof) return poll(OnChainState.NotFound, `no proof was submitted for ${sectorName(sid)}`);
    return this.pollMessage(state, "prove");
  }

  /** Whether the sector's last message (or its submission, before one was built) has failed for good. */
  async isFinalFailure(cid: string | undefined, sid: SectorID): Promise<boolean> {
    if (!cid)
      return (
        !this.kv.has(KEY.pending("pre", sid.Miner, sid.Number)) &&
        !this.kv.has(KEY.pending("prove", sid.Miner, sid.Number))
      );
    const look = await this.deps.chain.messageLookup(cid);
    if (!look) return !this.kv.has(KEY.outbox(cid));
    if (look.status === "failed") return true;
    if (look.status === "landed") return look.results?.find((r) => r.number === sid.Number)?.ok === false;
    return false;
  }

  private async pollMessage(state: SectorState, kind: CommitKind): Promise<PollStateResp> {
    const sid = state.ID;
    const cid = (kind === "pre" ? state.MessageInfo.PreCommitCid : state.MessageInfo.CommitCid)?.["/"];
    if (!cid) {
      return state.MessageInfo.NeedSend
        ? poll(OnChainState.Pending, "waiting for the batch to be sent")
        : poll(OnChainState.Failed, "no message was sent for this submission; submit again");
    }
    const look = await this.deps.chain.messageLookup(cid);
    if (!look) {
      return this.kv.has(KEY.outbox(cid))
        ? poll(OnChainState.Pending, `message ${cid} is waiting to be pushed`)
        : poll(OnChainState.Failed, `message ${cid} is unknown to the chain; submit again`);
    }
    const result = look.results?.find((r) => r.number === sid.Number);
    const rejected = () => {
      const what = kind === "pre" ? "PreCommit" : "ProveCommit";
      const desc = `${what} rejected by the chain in message ${cid}: ${result?.error ?? "rejected"}`;
      return poll(rejectedSectorState(kind, result?.code), desc);
    };
    switch (look.status) {
      case "pending":
        return poll(OnChainState.Pending, `message ${cid} is in the message pool`);
      case "packed":
        return poll(
          OnChainState.Packed,
          `message ${cid} was included at epoch ${look.packedEpoch}; waiting for confidence`,
        );
      case "failed":
        if (look.exitCode === ExitCode.SysErrOutOfGas || look.exitCode === ExitCode.SysErrInsufficientFunds) {
          return poll(
            OnChainState.Failed,
            `message ${cid} failed with exit code ${look.exitCode}: ${look.error ?? ""}`,
          );
        }
        if (result && !result.ok) return rejected();
        return poll(
          OnChainState.PermFailed,
          `message ${cid} failed with exit code ${look.exitCode}: ${look.error ?? ""}`,
        );
      case "landed": {
        if (result && !result.ok) return rejected();
        const { chain } = this.deps;
        if (kind === "pre") {
          if ((await chain.preCommitInfo(sid.Miner, sid.Number)) || (await chain.sectorInfo(sid.Miner, sid.Number))) {
            return poll(OnChainState.Landed);
          }
          return poll(
            OnChainState.ShouldAbort,
            `PreCommit message ${cid} landed but the PreCommit is no longer on chain (expired)`,
          );
        }
        if (await chain.sectorInfo(sid.Miner, sid.Number)) return poll(OnChainState.Landed);
        return poll(
          OnChainState.ShouldAbort,
          `ProveCommit message ${cid} landed but ${sectorName(sid)} is not active on chain`,
        );
      }
    }
  }
}
