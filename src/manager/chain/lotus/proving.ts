import { LotusApi, type LotusPartition } from "../../../core/chain/lotus-api.ts";
import { lotusBitfieldFromNumbers } from "../../../core/chain/lotus-bitfield.ts";
import type { RpcClient } from "../../../core/rpc/index.ts";
import type { ProvingPartition, ProvingSector } from "../../../core/sector/chain.ts";
import { bitfieldMembers, deadlineIndexAt, provingSectorFromLotus } from "./convert.ts";
import { LotusChainError } from "./errors.ts";

/**
 * The WindowPoSt view of a miner's state, read from a node: which sectors each partition of a deadline
 * must prove, which are faulty, and whether the current instance was proven already.
 */

/** One partition as PoSt sees it: its live sectors (with their infos), faults among them, proven or not. */
export function provingPartitionFromLotus(
  index: number,
  partition: LotusPartition,
  sectors: ReadonlyMap<number, ProvingSector>,
  proven: boolean,
  what: string,
): ProvingPartition {
  const live = bitfieldMembers(partition.LiveSectors, `${what} LiveSectors`);
  const faulty = new Set(bitfieldMembers(partition.FaultySectors, `${what} FaultySectors`));
  const missing = live.find((n) => !sectors.has(n));
  if (missing !== undefined) {
    throw new LotusChainError("bad-answer", `${what}: live sector ${missing} has no info (StateMinerSectors)`);
  }
  return {
    index,
    sectors: live.map((n) => sectors.get(n)!),
    faults: live.filter((n) => faulty.has(n)),
    proven,
  };
}

/**
 * The partitions of the deadline instance opening at `open`. The node holds the deadlines' current state, so
 * any instance of the deadline gets today's partitions; `proven` (PostSubmissions) only speaks for the
 * instance open now, since the chain clears it when a deadline closes.
 */
export async function provingPartitionsOf(client: RpcClient, miner: string, open: number): Promise<ProvingPartition[]> {
  const current = await client.call(LotusApi.StateMinerProvingDeadline, miner, null);
  const index = deadlineIndexAt(current, open);
  if (index === undefined) {
    throw new LotusChainError(
      "wrong-deadline",
      `no deadline of ${miner} opens at epoch ${open} (deadlines open every ${current.WPoStChallengeWindow} epochs from ${current.PeriodStart})`,
    );
  }
  const [partitions, deadlines] = await Promise.all([
    client.call(LotusApi.StateMinerPartitions, miner, index, null),
    client.call(LotusApi.StateMinerDeadlines, miner, null),
  ]);
  const parts = partitions ?? [];
  const submitted =
    open === current.Open && deadlines[index]
      ? new Set(bitfieldMembers(deadlines[index].PostSubmissions, `deadline ${index} PostSubmissions`))
      : new Set<number>();
  const live = parts.flatMap((p, i) => bitfieldMembers(p.LiveSectors, `deadline ${index} partition ${i} LiveSectors`));
  const infos =
    live.length === 0
      ? []
      : ((await client.call(LotusApi.StateMinerSectors, miner, lotusBitfieldFromNumbers(live), null)) ?? []);
  const byNumber = new Map(infos.map((s) => [s.SectorNumber, provingSectorFromLotus(s)]));
  return parts.map((p, i) =>
    provingPartitionFromLotus(i, p, byNumber, submitted.has(i), `deadline ${index} partition ${i}`),
  );
}

/**
 * Active and faulty sector counts over all of a miner's partitions, as MinerPower counts them: faulty
 * sectors are active sectors that earn no power (the builtin ActiveSectors set leaves them out).
 */
export async function minerPartitionCounts(
  client: RpcClient,
  miner: string,
): Promise<{ activeSectors: number; faultySectors: number }> {
  const deadlines = await client.call(LotusApi.StateMinerDeadlines, miner, null);
  const perDeadline = await Promise.all(
    deadlines.map(async (_, index) => (await client.call(LotusApi.StateMinerPartitions, miner, index, null)) ?? []),
  );
  let activeSectors = 0;
  let faultySectors = 0;
  for (const [index, parts] of perDeadline.entries()) {
    for (const [i, p] of parts.entries()) {
      const what = `deadline ${index} partition ${i}`;
      const active = bitfieldMembers(p.ActiveSectors, `${what} ActiveSectors`);
      const faulty = new Set(bitfieldMembers(p.FaultySectors, `${what} FaultySectors`));
      const faultyLive = bitfieldMembers(p.LiveSectors, `${what} LiveSectors`).filter((n) => faulty.has(n)).length;
      activeSectors += active.length + faultyLive;
      faultySectors += faultyLive;
    }
  }
  return { activeSectors, faultySectors };
}
