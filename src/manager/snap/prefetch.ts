import { childLogger } from "../../core/log/index.ts";
import type { SnapUpFetchResult } from "../../core/sector/api-snap.ts";
import type { OnChainSector } from "../../core/sector/chain.ts";
import { epochsUntilMutable } from "../../core/sector/deadlines.ts";
import type { SectorID } from "../../core/sector/index.ts";
import { MIN_REMAINING_LIFETIME, type SnapDeps } from "./deps.ts";

const log = childLogger("snap");

/** A SnapUpPreFetch the manager refuses (unknown miner, deadline out of range or frozen), with the reason. */
export class SnapFetchRefusedError extends Error {
  override name = "SnapFetchRefusedError";
}

/**
 * Why a sector cannot be snapped now, or undefined when it can: active on chain, committed capacity (no
 * deals, never updated), not faulty, with life left for deals, its sealed file and cache indexed here in one
 * store, and not already being worked on (online).
 */
export function unfitForSnap(
  deps: Pick<SnapDeps, "states" | "indexer">,
  sid: SectorID,
  info: OnChainSector | undefined,
  faulty: boolean,
  head: number,
): string | undefined {
  if (!info) return "it is not active on chain";
  if (info.sectorKeyCommR) return "it was updated already";
  if ((info.dealIds ?? []).length > 0) return "it holds deals";
  if (faulty) return "it is faulty";
  if (info.expiration - head < MIN_REMAINING_LIFETIME)
    return `it expires at epoch ${info.expiration}, too soon for deals`;
  if (deps.states.get("online", sid)) return "it is online (being worked on)";
  const loc = deps.indexer.find("normal", sid);
  if (!loc.Found) return "its sealed file is not in this manager's sector index";
  if (loc.Instance.SealedFile !== loc.Instance.CacheDir)
    return `its sealed file and cache are in different stores (${loc.Instance.SealedFile}, ${loc.Instance.CacheDir})`;
  return undefined;
}

/**
 * SnapUpPreFetch: marks the miner's snappable sectors as candidates, in one deadline or (without
 * `dlindex`) every deadline that may change now. A deadline being proven, or the next one, is frozen on
 * chain: updating one of its sectors would fail, so a frozen deadline is not fetched. Total counts the fit
 * sectors found, Diff those that were not candidates yet.
 */
export async function snapPreFetch(
  deps: SnapDeps,
  actor: number,
  dlindex: number | null | undefined,
): Promise<SnapUpFetchResult> {
  const { chain } = deps;
  if (!(await chain.minerInfo(actor))) throw new SnapFetchRefusedError(`miner ${actor} is not a miner on this chain`);
  const policy = chain.policy();
  const current = await chain.provingDeadline(actor);
  const count = policy.wpostPeriodDeadlines;
  let indexes: number[];
  if (dlindex !== null && dlindex !== undefined) {
    if (dlindex >= count)
      throw new SnapFetchRefusedError(
        `deadline ${dlindex} does not exist: miner ${actor} has deadlines 0..${count - 1}`,
      );
    const wait = epochsUntilMutable(current, dlindex, policy);
    if (wait > 0)
      throw new SnapFetchRefusedError(
        `deadline ${dlindex} of miner ${actor} is being proven now or next (current deadline ${current.index}, epoch ${current.currentEpoch}); its sectors cannot be updated until epoch ${current.currentEpoch + wait}`,
      );
    indexes = [dlindex];
  } else {
    indexes = Array.from({ length: count }, (_, i) => i).filter((i) => epochsUntilMutable(current, i, policy) === 0);
  }

  const deadlines = await chain.deadlines(actor);
  const faulty = new Set((await chain.faults(actor)).map((f) => f.number));
  const head = current.currentEpoch;
  const found = new Map<number, number[]>();
  for (const dl of indexes) {
    const good: number[] = [];
    for (const number of (deadlines[dl]?.partitions ?? []).flat()) {
      const sid = { Miner: actor, Number: number };
      const why = unfitForSnap(deps, sid, await chain.sectorInfo(actor, number), faulty.has(number), head);
      if (why) log.debug(`s-t0${actor}-${number} is not a snap candidate: ${why}`);
      else good.push(number);
    }
    found.set(dl, good);
  }
  const diff = await deps.store.durable(() => {
    let added = 0;
    for (const [dl, good] of found) if (good.length > 0) added += deps.candidates.add(actor, dl, count, good);
    return added;
  });
  const total = [...found.values()].reduce((n, g) => n + g.length, 0);
  log.info(
    `snap fetch of miner ${actor}, deadline(s) ${indexes.join(",") || "none mutable now"}: ${total} candidate(s), ${diff} new`,
  );
  return { Total: total, Diff: diff };
}
