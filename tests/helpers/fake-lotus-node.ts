import { createHash, randomBytes } from "node:crypto";
import { Hono } from "hono";
import { createToken, secretAuthenticator } from "../../src/core/auth/index.ts";
import {
  DEVNET_NETWORK_PREFIX,
  DevnetApi,
  LOTUS_RPC_PATH,
  LotusApi,
  LotusErrorCode,
} from "../../src/core/chain/lotus-api.ts";
import { lotusBitfieldFromNumbers } from "../../src/core/chain/lotus-bitfield.ts";
import { type BlockMsg, type BlockTemplate, LotusBlockApi } from "../../src/core/chain/lotus-blocks.ts";
import { type FetchRequest, mountRpc, RpcError, RpcErrorCode, RpcRegistry } from "../../src/core/rpc/index.ts";
import type { ChainPolicy, OnChainDeal } from "../../src/core/sector/chain.ts";
import { commDToCid, commRToCid } from "../../src/core/sector/cid.ts";

/**
 * A fake Filecoin node for the Lotus chain client's tests: the contract's Filecoin.* methods (and Devnet.*
 * on a devnet) over a small in-memory model (blocks are "signed" with a hash of their height), answering in Lotus' JSON shapes, behind the same auth and
 * mountRpc as every damocles server. Reachable on a real socket (serve) and in-process (fetch).
 */

export interface FakeSector {
  number: number;
  sealProof: number;
  commR: number[];
  deadline: number;
  partition: number;
  activation: number;
  expiration: number;
  dealIds: number[];
  sectorKey?: number[];
}

export interface FakePreCommit {
  number: number;
  sealProof: number;
  commR: number[];
  commD?: number[];
  sealRandEpoch: number;
  dealIds: number[];
  expiration: number;
  preCommitEpoch: number;
}

export interface FakeMiner {
  actor: number;
  sectorSize: number;
  windowPoStProofType: number;
  sectors: FakeSector[];
  preCommits: FakePreCommit[];
  allocated: Set<number>;
  faults: Set<number>;
  /** deadline index → partitions proven in its current instance */
  postSubmissions: Map<number, Set<number>>;
  rawBytePower: string;
}

export interface FakeDeal {
  pieceCid: string;
  pieceSize: number;
  client: string;
  provider: number;
  startEpoch: number;
  endEpoch: number;
  verified: boolean;
  label: string;
  sectorStartEpoch: number;
  slashEpoch: number;
  sectorNumber?: number;
}

export interface FakeModel {
  networkName: string;
  height: number;
  blockDelaySecs: number;
  preCommitChallengeDelay: number;
  /** WindowPoSt geometry (small, so tests cross deadlines quickly). */
  periodDeadlines: number;
  challengeWindow: number;
  challengeLookback: number;
  miners: Map<number, FakeMiner>;
  deals: Map<number, FakeDeal>;
  devnetPolicy?: ChainPolicy;
  /** Devnet.IsElected answers true for these epochs. */
  electedEpochs: Set<number>;
  /** The templates MinerCreateBlock was asked for, and the blocks SyncSubmitBlock accepted, in order. */
  templates: BlockTemplate[];
  blocks: BlockMsg[];
}

export const GENESIS_TIMESTAMP = 1_700_000_000;

/** The randomness the fake node answers: a hash of everything asked, so a test sees each input mattered. */
export function fakeRandomness(source: string, tag: number, epoch: number, entropy: string | null): Uint8Array {
  return new Uint8Array(
    createHash("sha256")
      .update(`${source}|${tag}|${epoch}|${entropy ?? ""}`)
      .digest(),
  );
}

export function fakeCommitment(seed: number): number[] {
  return [...createHash("sha256").update(`commitment ${seed}`).digest()].map((b, i) => (i === 31 ? b & 0x3f : b));
}

const actorOf = (addr: string): number => Number(/^[ft]0(\d+)$/.exec(addr)?.[1] ?? Number.NaN);

export function deadlineAt(m: FakeModel, height: number) {
  const period = m.periodDeadlines * m.challengeWindow;
  const periodStart = height - (((height % period) + period) % period);
  const index = Math.floor((height - periodStart) / m.challengeWindow);
  const open = periodStart + index * m.challengeWindow;
  return {
    CurrentEpoch: height,
    PeriodStart: periodStart,
    Index: index,
    Open: open,
    Close: open + m.challengeWindow,
    Challenge: open - m.challengeLookback,
    FaultCutoff: open - 2,
    WPoStPeriodDeadlines: m.periodDeadlines,
    WPoStProvingPeriod: period,
    WPoStChallengeWindow: m.challengeWindow,
    WPoStChallengeLookback: m.challengeLookback,
    FaultDeclarationCutoff: 2,
  };
}

function sectorJson(s: FakeSector) {
  return {
    SectorNumber: s.number,
    SealProof: s.sealProof,
    SealedCID: { "/": commRToCid(s.commR) },
    DealIDs: s.dealIds.length ? s.dealIds : null,
    Activation: s.activation,
    Expiration: s.expiration,
    SectorKeyCID: s.sectorKey ? { "/": commRToCid(s.sectorKey) } : null,
    DealWeight: "0",
    VerifiedDealWeight: "0",
  };
}

function partitionJson(miner: FakeMiner, sectors: FakeSector[]) {
  const numbers = sectors.map((s) => s.number);
  const faulty = numbers.filter((n) => miner.faults.has(n));
  return {
    AllSectors: lotusBitfieldFromNumbers(numbers),
    FaultySectors: lotusBitfieldFromNumbers(faulty),
    RecoveringSectors: [],
    LiveSectors: lotusBitfieldFromNumbers(numbers),
    ActiveSectors: lotusBitfieldFromNumbers(numbers.filter((n) => !miner.faults.has(n))),
  };
}

function partitionsOf(miner: FakeMiner, deadline: number): FakeSector[][] {
  const out: FakeSector[][] = [];
  for (const s of miner.sectors.filter((x) => x.deadline === deadline)) {
    out[s.partition] = [...(out[s.partition] ?? []), s];
  }
  return Array.from(out, (p) => p ?? []);
}

/** An unknown miner as each node says it: Lotus' ActorNotFound, the devnet's refusal with its code in data. */
function minerOrThrow(m: FakeModel, addr: string): FakeMiner {
  const miner = m.miners.get(actorOf(addr));
  if (miner) return miner;
  if (m.networkName.startsWith(DEVNET_NETWORK_PREFIX)) {
    throw new RpcError(RpcErrorCode.InvalidParams, `miner ${addr} is not a miner on this devnet`, {
      code: "unknown-miner",
    });
  }
  throw new RpcError(LotusErrorCode.ActorNotFound, `resolution lookup failed (${addr}): actor not found`);
}

function registerLotus(r: RpcRegistry, m: FakeModel): void {
  const tipset = () => ({
    Cids: [{ "/": "bafy2bzacea" }],
    Blocks: [
      {
        Miner: "f01000",
        Height: m.height,
        Timestamp: GENESIS_TIMESTAMP + m.height * m.blockDelaySecs,
        ParentBaseFee: "100",
      },
    ],
    Height: m.height,
  });
  r.implement(LotusApi.Version, () => ({ Version: "1.32.0+fake", APIVersion: 0x020300, BlockDelay: m.blockDelaySecs }))
    .implement(LotusApi.ChainHead, tipset)
    .implement(LotusApi.StateNetworkName, () => m.networkName)
    .implement(LotusApi.StateGetNetworkParams, () => ({
      NetworkName: m.networkName,
      BlockDelaySecs: m.blockDelaySecs,
      PreCommitChallengeDelay: m.preCommitChallengeDelay,
    }))
    .implement(LotusApi.StateGetRandomnessFromTickets, (tag, epoch, entropy) =>
      Buffer.from(fakeRandomness("tickets", tag, epoch, entropy)).toString("base64"),
    )
    .implement(LotusApi.StateGetRandomnessFromBeacon, (tag, epoch, entropy) =>
      Buffer.from(fakeRandomness("beacon", tag, epoch, entropy)).toString("base64"),
    )
    .implement(LotusApi.StateMinerInfo, (addr) => {
      const miner = minerOrThrow(m, addr);
      return {
        Owner: "f0100",
        Worker: "f0101",
        ControlAddresses: null,
        WindowPoStProofType: miner.windowPoStProofType,
        SectorSize: miner.sectorSize,
        WindowPoStPartitionSectors: 2,
        PeerId: null,
      };
    })
    .implement(LotusApi.StateMinerProvingDeadline, (addr) => {
      minerOrThrow(m, addr);
      return deadlineAt(m, m.height);
    })
    .implement(LotusApi.StateMinerDeadlines, (addr) => {
      const miner = minerOrThrow(m, addr);
      return Array.from({ length: m.periodDeadlines }, (_, i) => ({
        PostSubmissions: lotusBitfieldFromNumbers(miner.postSubmissions.get(i) ?? []),
        DisputableProofCount: 0,
      }));
    })
    .implement(LotusApi.StateMinerPartitions, (addr, deadline) => {
      const miner = minerOrThrow(m, addr);
      return partitionsOf(miner, deadline).map((p) => partitionJson(miner, p));
    })
    .implement(LotusApi.StateMinerSectors, (addr, sectors) => {
      const miner = minerOrThrow(m, addr);
      let wanted: Set<number> | undefined;
      if (sectors) {
        wanted = new Set();
        let pos = 0;
        sectors.forEach((len, i) => {
          if (i % 2 === 1) for (let k = 0; k < len; k++) wanted!.add(pos + k);
          pos += len;
        });
      }
      return miner.sectors.filter((s) => !wanted || wanted.has(s.number)).map(sectorJson);
    })
    .implement(LotusApi.StateMinerFaults, (addr) => lotusBitfieldFromNumbers(minerOrThrow(m, addr).faults))
    .implement(LotusApi.StateMinerPower, (addr) => {
      const miner = minerOrThrow(m, addr);
      return {
        MinerPower: { RawBytePower: miner.rawBytePower, QualityAdjPower: miner.rawBytePower },
        TotalPower: { RawBytePower: "1000000", QualityAdjPower: "1000000" },
        HasMinPower: true,
      };
    })
    .implement(LotusApi.StateSectorPreCommitInfo, (addr, number) => {
      const pc = minerOrThrow(m, addr).preCommits.find((p) => p.number === number);
      if (!pc) return null;
      return {
        Info: {
          SealProof: pc.sealProof,
          SectorNumber: pc.number,
          SealedCID: { "/": commRToCid(pc.commR) },
          SealRandEpoch: pc.sealRandEpoch,
          DealIDs: pc.dealIds.length ? pc.dealIds : null,
          Expiration: pc.expiration,
          UnsealedCid: pc.commD ? { "/": commDToCid(pc.commD) } : null,
        },
        PreCommitDeposit: "1000",
        PreCommitEpoch: pc.preCommitEpoch,
      };
    })
    .implement(LotusApi.StateSectorGetInfo, (addr, number) => {
      const s = minerOrThrow(m, addr).sectors.find((x) => x.number === number);
      return s ? sectorJson(s) : null;
    })
    .implement(LotusApi.StateSectorPartition, (addr, number) => {
      const s = minerOrThrow(m, addr).sectors.find((x) => x.number === number);
      return s ? { Deadline: s.deadline, Partition: s.partition } : null;
    })
    .implement(LotusApi.StateMinerSectorAllocated, (addr, number) => minerOrThrow(m, addr).allocated.has(number))
    .implement(LotusApi.StateMarketStorageDeal, (id) => {
      const d = m.deals.get(id);
      if (!d) throw new RpcError(1, `deal ${id} not found`);
      return {
        Proposal: {
          PieceCID: { "/": d.pieceCid },
          PieceSize: d.pieceSize,
          VerifiedDeal: d.verified,
          Client: d.client,
          Provider: `f0${d.provider}`,
          Label: d.label,
          StartEpoch: d.startEpoch,
          EndEpoch: d.endEpoch,
          StoragePricePerEpoch: "0",
          ProviderCollateral: "0",
          ClientCollateral: "0",
        },
        State: {
          SectorStartEpoch: d.sectorStartEpoch,
          LastUpdatedEpoch: -1,
          SlashEpoch: d.slashEpoch,
          ...(d.sectorNumber !== undefined ? { SectorNumber: d.sectorNumber } : {}),
        },
      };
    })
    .implement(LotusApi.MinerGetBaseInfo, (addr, epoch) => {
      const miner = minerOrThrow(m, addr);
      if (epoch > m.height + 1) return null;
      return {
        MinerPower: miner.rawBytePower,
        NetworkPower: "1000000",
        Sectors: miner.sectors
          .filter((s) => !miner.faults.has(s.number))
          .map((s) => ({ SealProof: s.sealProof, SectorNumber: s.number, SealedCID: { "/": commRToCid(s.commR) } })),
        WorkerKey: "f0101",
        SectorSize: miner.sectorSize,
        EligibleForMining: true,
      };
    })
    .implement(LotusBlockApi.MinerCreateBlock, (template) => {
      minerOrThrow(m, template.Miner);
      m.templates.push(template);
      return {
        Header: {
          Miner: template.Miner,
          Ticket: template.Ticket,
          ElectionProof: template.Eproof,
          BeaconEntries: template.BeaconValues,
          WinPoStProof: template.WinningPoStProof,
          Parents: template.Parents ?? [],
          ParentWeight: "0",
          Height: template.Epoch,
          ParentStateRoot: { "/": "bafy2bzaceroot" },
          ParentMessageReceipts: { "/": "bafy2bzacereceipts" },
          Messages: { "/": "bafy2bzacemessages" },
          BLSAggregate: null,
          Timestamp: template.Timestamp,
          BlockSig: { Type: 1 as const, Data: fakeBlockSig(template.Epoch) },
          ForkSignaling: 0,
          ParentBaseFee: "100",
        },
        BlsMessages: [],
        SecpkMessages: [],
      };
    })
    .implement(LotusBlockApi.SyncSubmitBlock, (block) => {
      const { Header: h } = block;
      if (h.BlockSig?.Data !== fakeBlockSig(h.Height)) throw new RpcError(1, "invalid block signature");
      if (h.Height > m.height) {
        // The devnet says why as a code; Lotus only in text.
        const data = m.networkName.startsWith(DEVNET_NETWORK_PREFIX) ? { code: "future-epoch" } : undefined;
        throw new RpcError(1, `block at ${h.Height} is in the future (head ${m.height})`, data);
      }
      m.blocks.push(block);
      return null;
    });
}

/** The fake node's "signature" of a block: its height, hashed. */
function fakeBlockSig(height: number): string {
  return createHash("sha256").update(`fake-block-sig/${height}`).digest("base64");
}

function registerDevnet(r: RpcRegistry, m: FakeModel, policy: ChainPolicy): void {
  let nextDeal = 100;
  r.implement(DevnetApi.Policy, () => policy)
    .implement(DevnetApi.Faults, (addr) =>
      [...minerOrThrow(m, addr).faults].map((number) => ({
        number,
        since: 7,
        kind: "declared",
        reason: "skipped by the miner",
      })),
    )
    .implement(DevnetApi.PoStRecords, (addr, limit) => {
      minerOrThrow(m, addr);
      const dl = deadlineAt(m, m.height);
      const record = {
        actor: actorOf(addr),
        deadline: dl.Index,
        periodStart: dl.PeriodStart,
        open: dl.Open,
        close: dl.Close,
        challenge: dl.Challenge,
        partitions: [],
        outcome: "empty",
        verifiedProofs: 0,
        rejectedProofs: 0,
        declaredFaults: [],
        detectedFaults: [],
        recovered: [],
      };
      return Array.from({ length: Math.min(limit, 2) }, () => record);
    })
    .implement(DevnetApi.ProvingStats, (addr) => ({
      windowPoStsVerified: minerOrThrow(m, addr).sectors.length,
      windowPoStsRejected: 0,
      faultsDeclared: 1,
      faultsDetected: 0,
      recoveries: 0,
      deadlinesMissed: 0,
      blocksMined: 3,
      winningPoStsRejected: 0,
    }))
    .implement(DevnetApi.IsElected, (addr, epoch) => {
      minerOrThrow(m, addr);
      return m.electedEpochs.has(epoch);
    })
    .implement(DevnetApi.PublishDeal, (proposal) => {
      const miner = m.miners.get(proposal.provider);
      if (!miner || proposal.pieceSize > miner.sectorSize) {
        throw new RpcError(1, `deal does not fit provider f0${proposal.provider}`, { code: "deal-invalid" });
      }
      const id = nextDeal++;
      m.deals.set(id, { ...proposal, sectorStartEpoch: -1, slashEpoch: -1 });
      const deal: OnChainDeal = { id, proposal, state: "published", publishEpoch: m.height };
      return deal;
    });
}

export interface FakeLotusNode {
  model: FakeModel;
  /** Tokens the node accepts: `sign` holds read,write,sign. */
  tokens: { sign: string; read: string };
  /** The in-process transport (ClientOptions.fetch). */
  fetch: FetchRequest;
  /** Serves the node on a free port; the base URL (no path: clients add /rpc/v1). */
  serve(): { url: string; port: number; stop(): Promise<void> };
}

export function fakeModel(overrides: Partial<FakeModel> = {}): FakeModel {
  return {
    networkName: "mainnet",
    height: 100,
    blockDelaySecs: 30,
    preCommitChallengeDelay: 150,
    periodDeadlines: 4,
    challengeWindow: 10,
    challengeLookback: 3,
    miners: new Map(),
    deals: new Map(),
    electedEpochs: new Set(),
    templates: [],
    blocks: [],
    ...overrides,
  };
}

export function fakeMiner(actor: number, overrides: Partial<FakeMiner> = {}): FakeMiner {
  return {
    actor,
    sectorSize: 2048,
    windowPoStProofType: 10, // StackedDrgWindow2KiBV1_1
    sectors: [],
    preCommits: [],
    allocated: new Set(),
    faults: new Set(),
    postSubmissions: new Map(),
    rawBytePower: "0",
    ...overrides,
  };
}

export async function startFakeLotusNode(model: FakeModel): Promise<FakeLotusNode> {
  const secret = new Uint8Array(randomBytes(32));
  const registry = new RpcRegistry();
  registerLotus(registry, model);
  if (model.networkName.startsWith(DEVNET_NETWORK_PREFIX)) {
    if (!model.devnetPolicy) throw new Error("a fake devnet needs devnetPolicy");
    registerDevnet(registry, model, model.devnetPolicy);
  }
  const app = mountRpc(new Hono(), registry, secretAuthenticator(secret), LOTUS_RPC_PATH);
  return {
    model,
    tokens: {
      sign: await createToken(secret, { name: "test-sign", perm: "sign" }),
      read: await createToken(secret, { name: "test-read", perm: "read" }),
    },
    fetch: async (request) => app.fetch(request),
    serve() {
      const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => app.fetch(req) });
      return {
        url: `http://127.0.0.1:${server.port}`,
        port: server.port ?? 0,
        stop: () => server.stop(true),
      };
    },
  };
}
