import { childLogger } from "../../core/log/index.ts";
import type { AllocatedSnapUpSector, AllocateSnapUpSpec, SectorPublicInfo } from "../../core/sector/api-snap.ts";
import { commRToCid, newSectorState, type SectorID, sectorName } from "../../core/sector/index.ts";
import { sealingLead } from "../market/market.ts";
import { type MarketPick, marketMiner, type SnapDeps } from "./deps.ts";
import { unfitForSnap } from "./prefetch.ts";
import type { SnapMiner } from "./records.ts";

const log = childLogger("snap");

/** How many candidates of one miner one call looks at before giving up (each costs chain lookups). */
const MAX_TRIES_PER_MINER = 16;

/**
 * AllocateSanpUpSector: a candidate of a random miner the worker allows (SnapUp enabled), re-checked on
 * chain, filled with waiting deals that start late enough and end before the sector expires. Taking the
 * candidate, bringing the sector's state online as an upgrade and assigning the deals are one durable
 * transaction, so a crash leaves either an untouched candidate or a snap sector with its deals. Null when
 * no candidate or no deals fit; a candidate that has become unfit is dropped on the way.
 */
export async function allocateSnapUp(deps: SnapDeps, spec: AllocateSnapUpSpec): Promise<AllocatedSnapUpSector | null> {
  const market = deps.market;
  if (!market) return null;
  const allowed = spec.Sector.AllowedMiners ?? [];
  const proofs = spec.Sector.AllowedProofTypes ?? [];
  const miners = deps
    .miners()
    .filter(
      (m) =>
        m.enabled &&
        (allowed.length === 0 || allowed.includes(m.actor)) &&
        (proofs.length === 0 || proofs.includes(m.sealProofType)),
    );
  const random = deps.random ?? Math.random;
  while (miners.length > 0) {
    const i = Math.floor(random() * miners.length);
    const allocated = await allocateFor(deps, market, miners[i]!, spec);
    if (allocated) return allocated;
    miners.splice(i, 1);
  }
  return null;
}

async function allocateFor(
  deps: SnapDeps,
  market: MarketPick,
  miner: SnapMiner,
  spec: AllocateSnapUpSpec,
): Promise<AllocatedSnapUpSector | null> {
  const random = deps.random ?? Math.random;
  const tried = new Set<number>();
  for (let attempt = 0; attempt < MAX_TRIES_PER_MINER; attempt++) {
    const numbers = [...deps.candidates.byDeadline(miner.actor).values()].flat().filter((n) => !tried.has(n));
    if (numbers.length === 0) return null;
    const number = numbers[Math.floor(random() * numbers.length)]!;
    tried.add(number);
    const sid = { Miner: miner.actor, Number: number };
    const info = await deps.chain.sectorInfo(miner.actor, number);
    const faulty = (await deps.chain.faults(miner.actor)).some((f) => f.number === number);
    const head = (await deps.chain.head()).epoch;
    const why = unfitForSnap(deps, sid, info, faulty, head);
    if (why || !info) {
      await deps.store.durable(() => deps.candidates.remove(miner.actor, number));
      log.info(`${sectorName(sid)} is no longer a snap candidate: ${why}`);
      continue;
    }
    const access = deps.indexer.find("normal", sid).Instance.SealedFile;
    const pub: SectorPublicInfo = {
      CommR: [...info.commR],
      SealedCID: { "/": commRToCid(info.commR) },
      Activation: info.activation,
      Expiration: info.expiration,
    };
    const window = {
      minStart: head + sealingLead(deps.chain.policy(), marketMiner(miner)),
      // The original refuses deals ending at or after the sector's expiration.
      maxEnd: info.expiration - 1,
    };
    const taken = await deps.store.durable(() => {
      if (!deps.candidates.has(miner.actor, number) || deps.states.get("online", sid)) return "raced" as const;
      const packed = market.pickDeals(marketMiner(miner), spec.Deals, window);
      if (!packed) return "no-deals" as const;
      bringOnlineAsUpgrade(deps, sid, miner.sealProofType, pub);
      const pieces = market.assign(sid, packed);
      deps.candidates.remove(miner.actor, number);
      return pieces;
    });
    if (taken === "raced") continue;
    if (taken === "no-deals") {
      log.debug(
        `no waiting deals of miner ${miner.actor} fit ${sectorName(sid)} (start > ${window.minStart}, end < ${info.expiration})`,
      );
      return null;
    }
    log.info(
      `${sectorName(sid)} allocated for a snap update with deals ${taken
        .filter((p) => p.ID !== 0)
        .map((p) => p.ID)
        .join(", ")}`,
    );
    return {
      Sector: { ID: sid, ProofType: miner.sealProofType },
      Pieces: taken,
      Public: pub,
      Private: { AccessInstance: access },
    };
  }
  return null;
}

/**
 * The sector's state online again as a snap upgrade: its finalized record when this manager sealed it,
 * else a new one (a pre-sealed or imported sector). Inside the allocation's transaction.
 */
function bringOnlineAsUpgrade(deps: SnapDeps, sid: SectorID, proofType: number, pub: SectorPublicInfo): void {
  const mark = (s: ReturnType<typeof newSectorState>) => {
    s.Finalized = false;
    s.AbortReason = "";
    s.Upgraded = true;
    s.UpgradePublic = pub;
    s.UpgradedInfo = null;
    s.UpgradeMessageID = null;
    s.UpgradeLandedEpoch = null;
    s.Pieces = null;
  };
  if (deps.states.bringOnline(sid, mark)) return;
  const fresh = newSectorState(sid, proofType);
  mark(fresh);
  deps.states.create(fresh);
}
