import { LotusApi, type LotusPartition } from "../../core/chain/lotus-api.ts";
import { lotusBitfieldFromNumbers, lotusBitfieldNumbers } from "../../core/chain/lotus-bitfield.ts";
import type { RpcRegistry } from "../../core/rpc/server.ts";
import type { MinerInfo } from "../../core/sector/chain.ts";
import { commRToCid, windowPoStPartitionSectors } from "../../core/sector/index.ts";
import { SECTOR_LIFETIME_EPOCHS } from "../miner-actor.ts";
import {
  actorAddress,
  actorOfAddress,
  lotusDeadlineInfo,
  lotusPreCommit,
  lotusSector,
  pledgeFor,
  refusal,
} from "./shapes.ts";
import type { StateContext } from "./state.ts";

/** The miner actor's state in Lotus shapes: info, deadlines, partitions, sectors, power, pledge. */

/** The miner a param names; an address that is no miner here is refused naming it. */
export async function minerOf(ctx: StateContext, text: string): Promise<MinerInfo> {
  const actor = actorOfAddress("miner", text);
  const info = await ctx.devnet.minerInfo(actor);
  if (!info) {
    const known = (await ctx.devnet.listMiners()).map((m) => actorAddress(m.actor)).join(", ") || "none";
    throw refusal("unknown-miner", `miner ${text} is not a miner on this devnet (its miners: ${known})`);
  }
  return info;
}

async function workerOf(ctx: StateContext, m: MinerInfo): Promise<string> {
  const worker = await ctx.deps.workerOf(m.actor);
  if (!worker) throw refusal("unknown-miner", `miner ${actorAddress(m.actor)} has no worker key on this devnet`);
  return worker;
}

/** Verified deal bytes among `dealIds` (quality-adjusted power counts them ten times). */
async function verifiedBytes(ctx: StateContext, dealIds: readonly number[]): Promise<number> {
  let bytes = 0;
  for (const id of dealIds) {
    const d = await ctx.devnet.marketDeal(id);
    if (d?.proposal.verified) bytes += d.proposal.pieceSize;
  }
  return bytes;
}

export function registerMinerState(registry: RpcRegistry, ctx: StateContext): void {
  const { devnet, db } = ctx;
  const faultSet = (actor: number) => new Set(db.faults(actor).map((f) => f.number));

  registry
    .implement(LotusApi.StateMinerInfo, async (miner) => {
      const m = await minerOf(ctx, miner);
      const worker = await workerOf(ctx, m);
      return {
        Owner: worker,
        Worker: worker,
        ControlAddresses: [],
        WindowPoStProofType: m.windowPoStProofType,
        SectorSize: m.sectorSize,
        WindowPoStPartitionSectors: windowPoStPartitionSectors(m.sealProofType),
        PeerId: null,
        Multiaddrs: [],
      };
    })
    .implement(LotusApi.StateMinerProvingDeadline, async (miner) => {
      const m = await minerOf(ctx, miner);
      return lotusDeadlineInfo(devnet.policy(), await devnet.provingDeadline(m.actor));
    })
    .implement(LotusApi.StateMinerDeadlines, async (miner) => {
      const m = await minerOf(ctx, miner);
      // Like the miner actor, PostSubmissions is cleared when a deadline ends: only the open one has any.
      const current = await devnet.provingDeadline(m.actor);
      const proven = (await devnet.provingPartitions(m.actor, current.open)).filter((p) => p.proven);
      return (await devnet.deadlines(m.actor)).map((dl) => ({
        PostSubmissions: lotusBitfieldFromNumbers(dl.index === current.index ? proven.map((p) => p.index) : []),
        DisputableProofCount: 0,
      }));
    })
    .implement(LotusApi.StateMinerPartitions, async (miner, index) => {
      const m = await minerOf(ctx, miner);
      const dls = await devnet.deadlines(m.actor);
      const dl = dls[index];
      if (!dl)
        throw refusal(
          "malformed",
          `deadline ${index} does not exist (the miner has ${dls.length}: 0..${dls.length - 1})`,
        );
      const faults = faultSet(m.actor);
      // No terminations on the devnet: every assigned sector is live; recoveries happen in the PoSt itself.
      return dl.partitions.map((numbers): LotusPartition => {
        const faulty = numbers.filter((n) => faults.has(n));
        return {
          AllSectors: lotusBitfieldFromNumbers(numbers),
          FaultySectors: lotusBitfieldFromNumbers(faulty),
          RecoveringSectors: [],
          LiveSectors: lotusBitfieldFromNumbers(numbers),
          ActiveSectors: lotusBitfieldFromNumbers(numbers.filter((n) => !faults.has(n))),
        };
      });
    })
    .implement(LotusApi.StateMinerSectors, async (miner, filter) => {
      const m = await minerOf(ctx, miner);
      const wanted = filter === null ? undefined : new Set(lotusBitfieldNumbers(filter));
      return db
        .sectors(m.actor)
        .filter((s) => wanted === undefined || wanted.has(s.number))
        .sort((a, b) => a.number - b.number)
        .map(lotusSector);
    })
    .implement(LotusApi.StateMinerFaults, async (miner) => {
      const m = await minerOf(ctx, miner);
      return lotusBitfieldFromNumbers(faultSet(m.actor));
    })
    .implement(LotusApi.StateMinerPower, async (miner) => {
      const m = await minerOf(ctx, miner);
      const mine = await devnet.minerPower(m.actor);
      let total = 0;
      for (const other of await devnet.listMiners()) total += (await devnet.minerPower(other.actor)).rawBytes;
      // The devnet keeps raw power only (quality-adjusted = raw) and has no minimum power to mine.
      return {
        MinerPower: { RawBytePower: String(mine.rawBytes), QualityAdjPower: String(mine.rawBytes) },
        TotalPower: { RawBytePower: String(total), QualityAdjPower: String(total) },
        HasMinPower: mine.rawBytes > 0,
      };
    })
    .implement(LotusApi.StateSectorPreCommitInfo, async (miner, number) => {
      const m = await minerOf(ctx, miner);
      const pc = await devnet.preCommitInfo(m.actor, number);
      if (!pc) return null;
      const deposit = pledgeFor(m.sectorSize, await verifiedBytes(ctx, pc.dealIds));
      return lotusPreCommit(pc, m.sectorSize, pc.preCommitEpoch + SECTOR_LIFETIME_EPOCHS, deposit);
    })
    .implement(LotusApi.StateSectorGetInfo, async (miner, number) => {
      const m = await minerOf(ctx, miner);
      const s = await devnet.sectorInfo(m.actor, number);
      return s ? lotusSector(s) : null;
    })
    .implement(LotusApi.StateSectorPartition, async (miner, number) => {
      const m = await minerOf(ctx, miner);
      const s = await devnet.sectorInfo(m.actor, number);
      return s ? { Deadline: s.deadline, Partition: s.partition } : null;
    })
    .implement(LotusApi.StateMinerSectorAllocated, async (miner, number) => {
      const m = await minerOf(ctx, miner);
      return devnet.isSectorNumberAllocated(m.actor, number);
    })
    .implement(LotusApi.StateMinerPreCommitDepositForPower, async (miner, info) => {
      const m = await minerOf(ctx, miner);
      return pledgeFor(m.sectorSize, await verifiedBytes(ctx, info.DealIDs ?? []));
    })
    .implement(LotusApi.StateMinerInitialPledgeForSector, (_duration, sectorSize, verifiedSize) =>
      pledgeFor(sectorSize, verifiedSize),
    )
    .implement(LotusApi.MinerGetBaseInfo, async (miner, epoch) => {
      const m = await minerOf(ctx, miner);
      const sectors = await devnet.winningSectorSet(m.actor, epoch);
      // Like Lotus: no base info for a miner with nothing to prove a WinningPoSt over.
      if (sectors.length === 0) return null;
      const power = await devnet.minerPower(m.actor);
      let network = 0;
      for (const other of await devnet.listMiners()) network += (await devnet.minerPower(other.actor)).rawBytes;
      return {
        MinerPower: String(power.rawBytes),
        NetworkPower: String(network),
        Sectors: sectors.map((s) => ({
          SealProof: s.sealProof,
          SectorNumber: s.number,
          SealedCID: { "/": commRToCid(s.commR) },
        })),
        WorkerKey: await workerOf(ctx, m),
        SectorSize: m.sectorSize,
        EligibleForMining: power.rawBytes > 0,
      };
    });
}
