import { childLogger } from "../../core/log/index.ts";
import { epochsUntilMutable } from "../../core/sector/deadlines.ts";
import { cidToCommitment, type SectorState, sectorName, updateProofFor } from "../../core/sector/index.ts";
import type { BatchKind } from "../commit/kinds.ts";
import { sectorPieces } from "../market/market.ts";
import { type SnapDeps, sendMargin } from "./deps.ts";
import { upgradedInfo } from "./records.ts";
import type { CancelledCommitments } from "./revert.ts";

const log = childLogger("snap");

/**
 * ProveReplicaUpdates as a kind of batch message: accepted snap updates wait in the commit batcher like
 * PreCommits do (`[Miners.SnapUp.Batch]`), and a batch takes those whose deadline is mutable for a while
 * yet (the chain refuses an update in a deadline being proven now or next); the others stay pending until
 * their deadline thaws. The message id is stamped as the sector's UpgradeMessageID.
 */
export function replicaUpdateBatchKind(deps: SnapDeps, cancelled: CancelledCommitments): BatchKind {
  return {
    kind: "snap",
    method: "ProveReplicaUpdates",
    metricKind: "replicaupdate",
    policy: (m) => m.snap,
    ready: (s) => s.Upgraded && upgradedInfo(s) !== undefined && !s.UpgradeMessageID && !cancelled.has(s.ID),
    async prepare(actor, ready) {
      const policy = deps.chain.policy();
      const current = await deps.chain.provingDeadline(actor);
      const places = new Map<number, { deadline: number; partition: number }>();
      for (const s of ready) {
        const info = await deps.chain.sectorInfo(actor, s.ID.Number);
        if (!info) {
          log.warn(`${sectorName(s.ID)} is not active on chain; its replica update stays pending`);
          continue;
        }
        const wait = epochsUntilMutable(current, info.deadline, policy, sendMargin(policy));
        if (wait > 0) {
          log.debug(`${sectorName(s.ID)}: deadline ${info.deadline} is frozen for ${wait} more epoch(s)`);
          continue;
        }
        places.set(s.ID.Number, { deadline: info.deadline, partition: info.partition });
      }
      return {
        goes: (n) => places.has(n),
        message: (nonce, chunk) => ({
          from: actor,
          nonce,
          method: "ProveReplicaUpdates",
          updates: chunk.map((s) => update(s, places.get(s.ID.Number)!)),
        }),
      };
    },
    stamp: (st, cid) => {
      st.UpgradeMessageID = cid;
    },
  };
}

function update(s: SectorState, place: { deadline: number; partition: number }) {
  const info = upgradedInfo(s)!;
  return {
    number: s.ID.Number,
    deadline: place.deadline,
    partition: place.partition,
    newCommR: [...cidToCommitment(info.SealedCID["/"], "sealed")],
    dealIds: sectorPieces(s)
      .filter((p) => p.ID !== 0)
      .map((p) => p.ID),
    updateProof: updateProofFor(s.SectorType),
    proof: info.Proof,
  };
}
