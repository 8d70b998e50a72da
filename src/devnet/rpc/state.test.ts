import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { encode as encodeDagCbor } from "@ipld/dag-cbor";
import { FakeClock, fakeVerifier } from "../../../tests/manager/helpers.ts";
import { bearer, createToken, secretAuthenticator } from "../../core/auth/index.ts";
import { idAddress } from "../../core/chain/address.ts";
import { DEVNET_NETWORK_PREFIX, DevnetApi, LotusApi } from "../../core/chain/lotus-api.ts";
import { lotusBitfieldFromNumbers } from "../../core/chain/lotus-bitfield.ts";
import { RpcCallError, RpcClient, RpcErrorCode, type RunningServer } from "../../core/rpc/index.ts";
import { commDToCid, commRToCid, zeroCommD } from "../../core/sector/index.ts";
import { KVStore } from "../../core/store/index.ts";
import { DevnetChain } from "../chain.ts";
import { devnetSettings } from "../config.ts";
import { deriveRandomness } from "../randomness.ts";
import { DevnetStore } from "../store.ts";
import { acceptAllPoStVerifier } from "../verifier.ts";
import { devnetTipSetKey } from "./messages.ts";
import { DomainSeparationTag, postChainCommitRandomness } from "./randomness.ts";
import { devnetRpc, serveDevnet } from "./server.ts";
import { devnetNetworkName } from "./shapes.ts";

const BLOCK = 1000;
const SEED = "state-api-test";
const settings = devnetSettings({
  Seed: SEED,
  BlockTime: BLOCK,
  PreCommitChallengeDelay: 3,
  MessagePackDelay: 1,
  MessageLandDelay: 1,
  WPoStPeriodDeadlines: 4,
  WPoStChallengeWindow: 5,
  WPoStChallengeLookback: 2,
});
const MINER = "t01000";
const WORKER = "t0100";
const commR = (n: number) => Array.from({ length: 32 }, (_, i) => (i * 7 + n) % 256);

const clock = new FakeClock();
const store = KVStore.open(":memory:");
const devnet = new DevnetChain({
  store,
  settings,
  verifier: fakeVerifier(),
  postVerifier: acceptAllPoStVerifier,
  miners: [{ actor: 1000, sectorSize: 2048 }],
  preseal: [1, 2, 3].map((number) => ({ actor: 1000, number, sealProof: 5, commR: commR(number) })),
  now: clock.now,
});
const advance = async (epochs: number) => {
  clock.advance(epochs * BLOCK);
  await devnet.tick();
};

const secret = randomBytes(32);
let server: RunningServer;
let client: RpcClient;
let anonymous: RpcClient;
let token: string;
let rpcFetch: (req: Request) => Promise<Response>;

beforeAll(async () => {
  const rpc = devnetRpc(devnet, {
    store,
    workerOf: (actor) => (actor === 1000 ? WORKER : undefined),
    auth: secretAuthenticator(secret),
  });
  rpcFetch = rpc.fetch;
  server = serveDevnet(rpc, { hostname: "127.0.0.1", port: 0 });
  token = await createToken(secret, { name: "test", perm: "sign" });
  client = new RpcClient(`${server.url}/rpc/v1`, { headers: bearer(token) });
  anonymous = new RpcClient(`${server.url}/rpc/v1`);
  await advance(3);
});

afterAll(async () => {
  client.close();
  await server.stop();
  devnet.close();
  store.close();
});

/** The RPC error a call answers, with its data's code. */
async function refused(call: Promise<unknown>): Promise<RpcCallError> {
  try {
    await call;
  } catch (err) {
    if (err instanceof RpcCallError) return err;
    throw err;
  }
  throw new Error("the call was not refused");
}

const entropyOf = (actor: number) => Buffer.from(encodeDagCbor(idAddress(actor, "testnet").bytes)).toString("base64");

describe("devnet state API over /rpc/v1", () => {
  test("Version, ChainHead, network name and params", async () => {
    const version = await client.call(LotusApi.Version);
    expect(version.BlockDelay).toBe(1);
    const head = await client.call(LotusApi.ChainHead);
    expect(head.Height).toBe(3);
    expect(head.Cids).toEqual(devnetTipSetKey(3));
    expect(head.Blocks[0]!.Timestamp).toBe(Math.floor((clock.ms - 0) / 1000));
    const name = await client.call(LotusApi.StateNetworkName);
    expect(name.startsWith(`${DEVNET_NETWORK_PREFIX}-`)).toBe(true);
    expect(name).toBe(devnetNetworkName(DEVNET_NETWORK_PREFIX, SEED));
    expect(name).not.toBe(devnetNetworkName(DEVNET_NETWORK_PREFIX, "another seed"));
    expect(await client.call(LotusApi.StateNetworkVersion, null)).toBe(23);
    const params = await client.call(LotusApi.StateGetNetworkParams);
    expect(params).toMatchObject({ NetworkName: name, BlockDelaySecs: 1, PreCommitChallengeDelay: 3 });
  });

  test("websocket clients and the in-process fetch reach the same API", async () => {
    const ws = new RpcClient(`${server.url}/rpc/v1`, { transport: "ws", headers: bearer(token) });
    try {
      expect((await ws.call(LotusApi.ChainHead)).Height).toBe(devnet.headEpoch());
    } finally {
      ws.close();
    }
    const res = await rpcFetch(
      new Request("http://devnet/rpc/v1", {
        method: "POST",
        headers: { ...bearer(token), "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "Filecoin.StateNetworkVersion", params: [null] }),
      }),
    );
    expect(await res.json()).toEqual({ jsonrpc: "2.0", id: 1, result: 23 });
    expect(await (await rpcFetch(new Request("http://devnet/healthcheck"))).text()).toBe("ok\n");
  });

  test("a call without a token is refused", async () => {
    const err = await refused(anonymous.call(LotusApi.ChainHead));
    expect(err.code).toBe(RpcErrorCode.Unauthorized);
  });

  test("randomness is the devnet beacon's, per DomainSeparationTag", async () => {
    const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");
    const e = entropyOf(1000);
    const { SealRandomness, InteractiveSealChallengeSeed, WindowedPoStChallengeSeed, WinningPoStChallengeSeed } =
      DomainSeparationTag;
    expect(await client.call(LotusApi.StateGetRandomnessFromTickets, SealRandomness, 2, e, null)).toBe(
      b64(deriveRandomness(SEED, "SealRandomness", 1000, 2)),
    );
    for (const [tag, domain] of [
      [InteractiveSealChallengeSeed, "InteractiveSealChallengeSeed"],
      [WindowedPoStChallengeSeed, "WindowedPoStChallengeSeed"],
      [WinningPoStChallengeSeed, "WinningPoStChallengeSeed"],
    ] as const) {
      expect(await client.call(LotusApi.StateGetRandomnessFromBeacon, tag, 3, e, null)).toBe(
        b64(deriveRandomness(SEED, domain, 1000, 3)),
      );
    }
    expect(
      await client.call(LotusApi.StateGetRandomnessFromTickets, DomainSeparationTag.PoStChainCommit, 1, null, null),
    ).toBe(b64(await postChainCommitRandomness(devnet, 1)));
  });

  test("randomness refuses unknown tags, the wrong source, future epochs and bad entropy", async () => {
    const e = entropyOf(1000);
    const cases: [Promise<unknown>, string][] = [
      [client.call(LotusApi.StateGetRandomnessFromTickets, 42, 1, e, null), "not a DomainSeparationTag"],
      [client.call(LotusApi.StateGetRandomnessFromTickets, 1, 1, e, null), "(TicketProduction) is not drawn"],
      [client.call(LotusApi.StateGetRandomnessFromBeacon, 5, 1, e, null), "call StateGetRandomnessFromTickets"],
      [client.call(LotusApi.StateGetRandomnessFromTickets, 5, 99, e, null), "epoch 99 is not available yet"],
      [client.call(LotusApi.StateGetRandomnessFromTickets, 5, 1, null, null), "no entropy"],
      [client.call(LotusApi.StateGetRandomnessFromTickets, 5, 1, "AAEC", null), "entropy"],
    ];
    for (const [call, text] of cases) expect((await refused(call)).message).toContain(text);
  });

  test("miner info, deadlines, partitions and sectors", async () => {
    expect(await client.call(LotusApi.StateMinerInfo, MINER, null)).toMatchObject({
      Owner: WORKER,
      Worker: WORKER,
      ControlAddresses: [],
      WindowPoStProofType: 10,
      SectorSize: 2048,
      WindowPoStPartitionSectors: 2,
    });
    const dl = await client.call(LotusApi.StateMinerProvingDeadline, MINER, null);
    const own = await devnet.provingDeadline(1000);
    expect(dl).toMatchObject({ CurrentEpoch: 3, Index: own.index, Open: own.open, Close: own.close });
    expect(dl).toMatchObject({ Challenge: own.open - 2, FaultCutoff: own.open - 2, WPoStProvingPeriod: 20 });
    const deadlines = await client.call(LotusApi.StateMinerDeadlines, MINER, null);
    expect(deadlines).toHaveLength(4);
    expect(deadlines.every((d) => d.PostSubmissions.length === 0)).toBe(true);

    const located = await client.call(LotusApi.StateSectorPartition, MINER, 1, null);
    expect(located).not.toBeNull();
    const parts = await client.call(LotusApi.StateMinerPartitions, MINER, located!.Deadline, null);
    expect(parts![located!.Partition]!.AllSectors).not.toEqual([]);
    expect(parts![located!.Partition]!.FaultySectors).toEqual([]);
    expect((await refused(client.call(LotusApi.StateMinerPartitions, MINER, 9, null))).message).toContain(
      "deadline 9 does not exist",
    );

    const all = await client.call(LotusApi.StateMinerSectors, MINER, null, null);
    expect(all!.map((s) => s.SectorNumber)).toEqual([1, 2, 3]);
    expect(all![0]).toMatchObject({ SealProof: 5, SealedCID: { "/": commRToCid(commR(1)) }, SectorKeyCID: null });
    const some = await client.call(LotusApi.StateMinerSectors, MINER, lotusBitfieldFromNumbers([2, 9]), null);
    expect(some!.map((s) => s.SectorNumber)).toEqual([2]);
    expect(await client.call(LotusApi.StateSectorGetInfo, MINER, 99, null)).toBeNull();
    expect(await client.call(LotusApi.StateSectorPartition, MINER, 99, null)).toBeNull();
    expect(await client.call(LotusApi.StateMinerSectorAllocated, MINER, 2, null)).toBe(true);
    expect(await client.call(LotusApi.StateMinerSectorAllocated, MINER, 99, null)).toBe(false);
    const power = await client.call(LotusApi.StateMinerPower, MINER, null);
    expect(power).toMatchObject({ MinerPower: { RawBytePower: "6144" }, TotalPower: { RawBytePower: "6144" } });
    expect(power.HasMinPower).toBe(true);
    const base = await client.call(LotusApi.MinerGetBaseInfo, MINER, 4, null);
    expect(base!.Sectors!.map((s) => s.SectorNumber)).toEqual([1, 2, 3]);
    expect(base).toMatchObject({ WorkerKey: WORKER, EligibleForMining: true, MinerPower: "6144" });
  });

  test("an upgraded sector has its SectorKeyCID", async () => {
    const db = new DevnetStore(store);
    const s = db.sector(1000, 3)!;
    db.putSector(1000, { ...s, commR: commR(33), sectorKeyCommR: s.commR });
    const info = await client.call(LotusApi.StateSectorGetInfo, MINER, 3, null);
    expect(info).toMatchObject({
      SealedCID: { "/": commRToCid(commR(33)) },
      SectorKeyCID: { "/": commRToCid(commR(3)) },
    });
    db.putSector(1000, s);
  });

  test("PreCommits, deposits and pledge", async () => {
    const cc = [...zeroCommD(2048)];
    await devnet.pushMessage({
      from: 1000,
      nonce: 1,
      method: "PreCommitSectorBatch2",
      sectors: [{ number: 10, sealProof: 5, commR: commR(10), commD: cc, sealRandEpoch: 2, dealIds: [] }],
    });
    await advance(3);
    const pc = await client.call(LotusApi.StateSectorPreCommitInfo, MINER, 10, null);
    expect(pc).not.toBeNull();
    expect(pc!.Info).toMatchObject({ SectorNumber: 10, SealRandEpoch: 2, UnsealedCid: null });
    expect(pc!.Info.SealedCID).toEqual({ "/": commRToCid(commR(10)) });
    expect(pc!.PreCommitDeposit).toBe(String(2048n * 100_000_000n));
    expect(await client.call(LotusApi.StateMinerPreCommitDepositForPower, MINER, pc!.Info, null)).toBe(
      pc!.PreCommitDeposit,
    );
    expect(await client.call(LotusApi.StateMinerInitialPledgeForSector, 1000, 2048, 1024, null)).toBe(
      String((2048n + 9n * 1024n) * 100_000_000n),
    );
    expect(await client.call(LotusApi.StateSectorPreCommitInfo, MINER, 11, null)).toBeNull();
  });

  test("deals: PublishDeal, StateMarketStorageDeal, refusals carry the code", async () => {
    const head = devnet.headEpoch();
    const proposal = {
      pieceCid: commDToCid(zeroCommD(2048)),
      pieceSize: 2048,
      client: "f0100",
      provider: 1000,
      startEpoch: head + 100,
      endEpoch: head + 1000,
      verified: false,
      label: "state test",
    };
    const deal = await client.call(DevnetApi.PublishDeal, proposal);
    expect(deal.state).toBe("published");
    const onChain = await client.call(LotusApi.StateMarketStorageDeal, deal.id, null);
    expect(onChain.Proposal).toMatchObject({ Client: "t0100", Provider: MINER, PieceSize: 2048 });
    expect(onChain.State).toMatchObject({ SectorStartEpoch: -1, SlashEpoch: -1 });
    const late = await refused(client.call(DevnetApi.PublishDeal, { ...proposal, startEpoch: 0 }));
    expect(late.data).toEqual({ code: "deal-invalid" });
    const badClient = await refused(client.call(DevnetApi.PublishDeal, { ...proposal, client: "nobody" }));
    expect(badClient.message).toContain("proposal.client");
    expect((await refused(client.call(LotusApi.StateMarketStorageDeal, 999, null))).message).toContain("deal 999");
  });

  test("Devnet.* answers the devnet's own records", async () => {
    expect(await client.call(DevnetApi.Policy)).toEqual(devnet.policy());
    expect(await client.call(DevnetApi.ProvingStats, MINER)).toEqual(await devnet.provingStats(1000));
    expect(await client.call(DevnetApi.PoStRecords, MINER, 10)).toEqual(await devnet.postRecords(1000, 10));
    expect(await client.call(DevnetApi.IsElected, MINER, 2)).toBe(await devnet.isElected(1000, 2));
    const block = await client.call(DevnetApi.SubmitBlock, MINER, 1_000, []);
    expect(block).toMatchObject({ ok: false, code: "future-epoch" });
  });

  test("a landed WindowPoSt shows in the open deadline's PostSubmissions", async () => {
    const at = (await client.call(LotusApi.StateSectorPartition, MINER, 1, null))!;
    let dl = await devnet.provingDeadline(1000);
    while (dl.index !== at.Deadline || dl.currentEpoch !== dl.open) {
      await advance(1);
      dl = await devnet.provingDeadline(1000);
    }
    await devnet.pushMessage({
      from: 1000,
      nonce: 2,
      method: "SubmitWindowedPoSt",
      post: {
        deadline: dl.index,
        open: dl.open,
        partitions: [{ index: at.Partition, skipped: [], recovered: [] }],
        proofs: [{ postProof: 10, proof: Buffer.from("post").toString("base64") }],
      },
    });
    await advance(3);
    const deadlines = await client.call(LotusApi.StateMinerDeadlines, MINER, null);
    expect(deadlines[at.Deadline]!.PostSubmissions).toEqual(lotusBitfieldFromNumbers([at.Partition]));
    expect(deadlines.filter((d) => d.PostSubmissions.length > 0)).toHaveLength(1);
  });

  test("missed deadlines show as faults everywhere", async () => {
    await advance(45);
    const faults = await client.call(DevnetApi.Faults, MINER);
    expect(faults.map((f) => f.number)).toEqual([1, 2, 3]);
    expect(await client.call(LotusApi.StateMinerFaults, MINER, null)).toEqual(lotusBitfieldFromNumbers([1, 2, 3]));
    const at = (await client.call(LotusApi.StateSectorPartition, MINER, 1, null))!;
    const part = (await client.call(LotusApi.StateMinerPartitions, MINER, at.Deadline, null))![at.Partition]!;
    expect(part.FaultySectors).toEqual(part.AllSectors);
    expect(part.ActiveSectors).toEqual([]);
    expect(await client.call(LotusApi.MinerGetBaseInfo, MINER, devnet.headEpoch(), null)).toBeNull();
  });

  test("an unknown miner or a non-ID address is refused naming it", async () => {
    const unknown = await refused(client.call(LotusApi.StateMinerInfo, "t01001", null));
    expect(unknown.message).toContain("t01001");
    expect(unknown.data).toEqual({ code: "unknown-miner" });
    const robust = await refused(client.call(DevnetApi.Faults, "t2aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
    expect(robust.message).toContain("miner");
  });
});
