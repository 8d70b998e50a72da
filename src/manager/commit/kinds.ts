import type { ChainMessage, MessageMethod } from "../../core/sector/chain.ts";
import { cidToCommitment, type SectorState } from "../../core/sector/index.ts";
import type { BatchPolicy, CommitKind, CommitMiner } from "./policy.ts";

/**
 * What the batcher needs to know about one kind of batch message: which policy paces it, whether a
 * sector still waits for it, how its message is built, and how a sector records the message it went in.
 * PreCommit and ProveCommit are below; the snap committer adds ProveReplicaUpdates (src/manager/snap/).
 */
export interface BatchKind {
  readonly kind: CommitKind;
  readonly method: MessageMethod;
  /** The `kind` label of its sectors in sector_landed_total. */
  readonly metricKind: string;
  policy(miner: CommitMiner): BatchPolicy | undefined;
  /** Whether the sector still waits for this message; the pending mark of one that does not is dropped. */
  ready(state: SectorState): boolean;
  /**
   * Before the batch's transaction, and free to ask the chain: which of the ready sectors go out now (the
   * others stay pending for a later check) and how their message is built.
   */
  prepare(actor: number, ready: readonly SectorState[]): Promise<PreparedBatch>;
  /** Records the message id on the sector, inside the batch's transaction. */
  stamp(state: SectorState, cid: string): void;
}

export interface PreparedBatch {
  goes(number: number): boolean;
  message(nonce: number, chunk: readonly SectorState[]): ChainMessage;
}

export const PRE_COMMIT: BatchKind = {
  kind: "pre",
  method: "PreCommitSectorBatch2",
  metricKind: "precommit",
  policy: (m) => m.pre,
  ready: (s) => s.MessageInfo.NeedSend && s.Pre !== undefined && !s.MessageInfo.PreCommitCid,
  prepare: async (actor) => ({
    goes: () => true,
    message: (nonce, chunk) => ({
      from: actor,
      nonce,
      method: "PreCommitSectorBatch2",
      sectors: chunk.map((s) => ({
        number: s.ID.Number,
        sealProof: s.SectorType,
        commR: [...cidToCommitment(s.Pre!.CommR["/"], "sealed")],
        commD: [...cidToCommitment(s.Pre!.CommD["/"], "unsealed")],
        sealRandEpoch: s.Pre!.Ticket.Epoch,
        dealIds: s.Pre!.Deals ?? [],
      })),
    }),
  }),
  stamp: (st, cid) => {
    st.MessageInfo = { ...st.MessageInfo, PreCommitCid: { "/": cid }, NeedSend: false };
    delete st.CommitPendingSince;
  },
};

export const PROVE_COMMIT: BatchKind = {
  kind: "prove",
  method: "ProveCommitSectors3",
  metricKind: "provecommit",
  policy: (m) => m.prove,
  ready: (s) => s.MessageInfo.NeedSend && s.Proof !== undefined && !s.MessageInfo.CommitCid,
  prepare: async (actor) => ({
    goes: () => true,
    message: (nonce, chunk) => ({
      from: actor,
      nonce,
      method: "ProveCommitSectors3",
      sectors: chunk.map((s) => ({ number: s.ID.Number, proof: s.Proof!.Proof })),
    }),
  }),
  stamp: (st, cid) => {
    st.MessageInfo = { ...st.MessageInfo, CommitCid: { "/": cid }, NeedSend: false };
    delete st.CommitPendingSince;
  },
};
