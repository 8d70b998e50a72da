/**
 * The SnapDeals module of the manager: candidates (`snap fetch`), AllocateSanpUpSector, SubmitSnapUpProof,
 * ProveReplicaUpdates batching (a kind of the commit batcher) and the snap committer that follows the
 * messages to a finalized sector. `SnapUp` composes them; `registerSnapApi` serves the Venus methods. A
 * refused operator request answers InvalidParams with the reason; a sector that is not online is 11001.
 */
import { RpcError, RpcErrorCode } from "../../core/rpc/errors.ts";
import type { RpcRegistry } from "../../core/rpc/server.ts";
import { VenusSnap, VenusSnapCli } from "../../core/sector/api-snap.ts";
import { SnapFetchRefusedError } from "./prefetch.ts";
import { SnapRefusedError, type SnapUp } from "./snap-up.ts";

export { SnapCandidates } from "./candidates.ts";
export type { SnapDeps } from "./deps.ts";
export type { SnapMiner } from "./records.ts";
export { SnapRefusedError, SnapUp } from "./snap-up.ts";

export function registerSnapApi(registry: RpcRegistry, snap: SnapUp): void {
  registry
    .implement(VenusSnap.AllocateSanpUpSector, (spec) => snap.allocate(spec))
    .implement(VenusSnap.SubmitSnapUpProof, (sid, info) => snap.submit(sid, info))
    .implement(VenusSnapCli.SnapUpPreFetch, (mid, dlindex) => explained(() => snap.preFetch(mid, dlindex)))
    .implement(VenusSnapCli.SnapUpCandidates, (mid) => snap.candidates(mid))
    .implement(VenusSnapCli.SnapUpCancelCommitment, (sid) =>
      explained(async () => {
        await snap.cancelCommitment(sid);
        return null;
      }),
    );
}

async function explained<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof SnapFetchRefusedError || err instanceof SnapRefusedError)
      throw new RpcError(RpcErrorCode.InvalidParams, err.message);
    throw err;
  }
}
