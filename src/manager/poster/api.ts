import { randomBytes } from "node:crypto";
import type { RpcRegistry } from "../../core/rpc/index.ts";
import { Proving } from "../../core/sector/api-proving.ts";
import type { DeadlineInfo, PoStChain } from "../../core/sector/chain.ts";
import type { PoSter } from "./poster.ts";

export interface ProvingApiDeps {
  chain: PoStChain;
  /** Always present (it is also the sector checker); `running` says whether it proves deadlines. */
  poster: PoSter;
  running: boolean;
  strictCheck: (actor: number) => boolean;
}

/** Damocles.Proving*: what `util sealer proving` shows. */
export function registerProvingApi(registry: RpcRegistry, deps: ProvingApiDeps): void {
  const { chain, poster } = deps;
  const miner = async (actor: number) => {
    const info = await chain.minerInfo(actor);
    if (!info)
      throw new Error(`miner ${actor} is not on the chain (known miners are listed by: damocles util chain head)`);
    return info;
  };
  /** This period's instance of deadline `index` (as of `cur`), or the next period's once it has closed. */
  const instanceOf = (cur: DeadlineInfo, index: number) => {
    const p = chain.policy();
    if (index >= p.wpostPeriodDeadlines)
      throw new Error(`deadline ${index} does not exist: deadlines are 0..${p.wpostPeriodDeadlines - 1}`);
    let open = cur.periodStart + index * p.wpostChallengeWindow;
    if (open + p.wpostChallengeWindow <= cur.currentEpoch) open += p.wpostPeriodDeadlines * p.wpostChallengeWindow;
    return {
      open,
      close: open + p.wpostChallengeWindow,
      challenge: open - p.wpostChallengeLookback,
      head: cur.currentEpoch,
    };
  };

  registry
    .implement(Proving.Info, async (actor) => {
      const info = await miner(actor);
      const p = chain.policy();
      const current = await chain.provingDeadline(actor);
      const faults = await chain.faults(actor);
      const active = new Set<number>();
      for (let i = 0; i < p.wpostPeriodDeadlines; i++) {
        const inst = instanceOf(current, i);
        for (const part of await chain.provingPartitions(actor, inst.open))
          for (const s of part.sectors) active.add(s.number);
      }
      return {
        actor,
        sectorSize: info.sectorSize,
        windowPoStProofType: info.windowPoStProofType,
        deadlines: p.wpostPeriodDeadlines,
        challengeWindow: p.wpostChallengeWindow,
        blockTimeMs: p.blockTimeMs,
        current,
        activeSectors: active.size,
        faultySectors: faults.length,
        stats: await chain.provingStats(actor),
        prover: deps.running ? poster.proverName : null,
      };
    })
    .implement(Proving.Deadlines, async (actor) => {
      await miner(actor);
      const p = chain.policy();
      const records = await chain.postRecords(actor, 10_000);
      const ours = poster.records(actor, 10_000);
      const current = await chain.provingDeadline(actor);
      const rows = [];
      for (let index = 0; index < p.wpostPeriodDeadlines; index++) {
        const inst = instanceOf(current, index);
        const parts = await chain.provingPartitions(actor, inst.open);
        const last = records.filter((r) => r.deadline === index && r.outcome !== undefined).at(-1) ?? null;
        const mine = ours.filter((r) => r.deadline === index).at(-1);
        rows.push({
          index,
          partitions: parts.filter((x) => x.sectors.length > 0).length,
          sectors: parts.reduce((n, x) => n + x.sectors.length, 0),
          faults: parts.reduce((n, x) => n + x.faults.length, 0),
          open: inst.open,
          close: inst.close,
          proven: parts.length > 0 && parts.every((x) => x.sectors.length === 0 || x.proven),
          last,
          poster: mine
            ? {
                open: mine.open,
                status: mine.status,
                ...(mine.provingMs !== undefined ? { provingMs: mine.provingMs } : {}),
                ...(mine.error ? { error: mine.error } : {}),
              }
            : null,
        });
      }
      return rows;
    })
    .implement(Proving.Faults, async (actor) => {
      await miner(actor);
      return chain.faults(actor);
    })
    .implement(Proving.Records, async (actor, limit) => {
      await miner(actor);
      return chain.postRecords(actor, limit);
    })
    .implement(Proving.Check, async (actor, deadline, slow) => {
      const info = await miner(actor);
      const inst = instanceOf(await chain.provingDeadline(actor), deadline);
      const parts = await chain.provingPartitions(actor, inst.open);
      // The deadline's own randomness once its challenge epoch has passed, else any canonical value.
      const randomness =
        inst.challenge <= inst.head
          ? await chain.windowPoStRandomness(actor, inst.challenge)
          : new Uint8Array(randomBytes(32));
      randomness[31]! &= 0x3f;
      const rows = [];
      for (const part of parts) {
        if (part.sectors.length === 0) continue;
        const res = await poster.checkPartitions(
          { actor, strictCheck: slow || deps.strictCheck(actor) },
          info.windowPoStProofType,
          info.sectorSize,
          [part],
          randomness,
        );
        const bad = new Map(res.bad.map((b) => [b.number, b.reason]));
        for (const s of part.sectors) {
          const reason = bad.get(s.number);
          rows.push({
            number: s.number,
            partition: part.index,
            ok: reason === undefined,
            faulty: part.faults.includes(s.number),
            ...(reason ? { reason } : {}),
          });
        }
      }
      return rows;
    });
}
