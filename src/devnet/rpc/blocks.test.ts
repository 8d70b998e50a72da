import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { FakeClock, fakeVerifier } from "../../../tests/manager/helpers.ts";
import { bearer, createToken, secretAuthenticator } from "../../core/auth/index.ts";
import { generatePrivateKey, keyAddress, signBytes } from "../../core/chain/index.ts";
import { type BlockMsg, type BlockTemplate, LotusBlockApi } from "../../core/chain/lotus-blocks.ts";
import { RpcCallError, RpcClient } from "../../core/rpc/index.ts";
import { KVStore } from "../../core/store/index.ts";
import { DevnetChain } from "../chain.ts";
import { devnetSettings } from "../config.ts";
import { acceptAllPoStVerifier } from "../verifier.ts";
import { blockSigningBytes } from "./blocks.ts";
import { devnetTipSetKey } from "./messages.ts";
import { devnetRpc } from "./server.ts";

/** Blocks the lotus-miner way on the devnet: MinerCreateBlock signs with the worker's key, SyncSubmitBlock judges. */

const BLOCK = 1000;
// ElectionPeriod 1 and one miner with power: f01000 wins every epoch.
const settings = devnetSettings({ Seed: "blocks-api-test", BlockTime: BLOCK, ElectionPeriod: 1 });
const commR = (n: number) => Array.from({ length: 32 }, (_, i) => (i * 5 + n) % 256);
const configuredWorker = keyAddress(generatePrivateKey("secp256k1"), "testnet").string;

const clock = new FakeClock();
const store = KVStore.open(":memory:");
const devnet = new DevnetChain({
  store,
  settings,
  verifier: fakeVerifier(),
  postVerifier: acceptAllPoStVerifier,
  miners: [
    { actor: 1000, sectorSize: 2048 },
    { actor: 1001, sectorSize: 2048, worker: configuredWorker },
  ],
  preseal: [1, 2].map((number) => ({ actor: 1000, number, sealProof: 5, commR: commR(number) })),
  now: clock.now,
});

let client: RpcClient;

beforeAll(async () => {
  const secret = randomBytes(32);
  const rpc = devnetRpc(devnet, {
    store,
    workerOf: (actor) => devnet.minerWorker(actor),
    auth: secretAuthenticator(secret),
  });
  client = new RpcClient("http://devnet.in-process/rpc/v1", {
    fetch: rpc.fetch,
    headers: bearer(await createToken(secret, { name: "miner", perm: "write" })),
  });
  clock.advance(5 * BLOCK);
  await devnet.tick();
});

afterAll(() => {
  client.close();
  devnet.close();
  store.close();
});

const template = (epoch: number, miner = "t01000"): BlockTemplate => ({
  Miner: miner,
  Parents: devnetTipSetKey(epoch - 1),
  Ticket: { VRFProof: "" },
  Eproof: { WinCount: 1, VRFProof: "" },
  BeaconValues: [],
  Messages: [],
  Epoch: epoch,
  Timestamp: 1_700_000_000 + epoch,
  // Winning PoSt for 2KiB sectors (StackedDrgWinning2KiBV1); the accept-all verifier takes any bytes.
  WinningPoStProof: [{ PoStProof: 0, ProofBytes: Buffer.from("proof").toString("base64") }],
});

async function refused(call: Promise<unknown>): Promise<RpcCallError> {
  try {
    await call;
  } catch (err) {
    if (err instanceof RpcCallError) return err;
    throw err;
  }
  throw new Error("the call was not refused");
}

describe("MinerCreateBlock and SyncSubmitBlock on the devnet", () => {
  test("a created block is signed by the worker, and submitted it is accepted and counted", async () => {
    const epoch = devnet.headEpoch();
    const block = await client.call(LotusBlockApi.MinerCreateBlock, template(epoch));
    expect(block.Header).toMatchObject({
      Miner: "t01000",
      Height: epoch,
      Parents: devnetTipSetKey(epoch - 1),
      Timestamp: 1_700_000_000 + epoch,
      ParentBaseFee: "100",
      WinPoStProof: [{ PoStProof: 0, ProofBytes: Buffer.from("proof").toString("base64") }],
      ElectionProof: { WinCount: 1 },
    });
    expect(block.Header.BlockSig?.Type).toBe(1);
    const before = (await devnet.provingStats(1000)).blocksMined;
    expect(await client.call(LotusBlockApi.SyncSubmitBlock, block)).toBeNull();
    expect((await devnet.provingStats(1000)).blocksMined).toBe(before + 1);
    // The same block again is the same accepted block, not a second one.
    expect(await client.call(LotusBlockApi.SyncSubmitBlock, block)).toBeNull();
    expect((await devnet.provingStats(1000)).blocksMined).toBe(before + 1);
  });

  test("a header changed after signing, or signed by another key, is refused as forbidden", async () => {
    const epoch = devnet.headEpoch() - 1;
    const block = await client.call(LotusBlockApi.MinerCreateBlock, template(epoch));
    const moved: BlockMsg = { ...block, Header: { ...block.Header, Timestamp: block.Header.Timestamp + 1 } };
    const err = await refused(client.call(LotusBlockApi.SyncSubmitBlock, moved));
    expect(err.data).toEqual({ code: "forbidden" });
    expect(err.message).toContain(devnet.minerWorker(1000));
    const stranger = generatePrivateKey("secp256k1");
    const sig = signBytes(stranger, blockSigningBytes(block.Header));
    const forged: BlockMsg = {
      ...block,
      Header: { ...block.Header, BlockSig: { Type: 1, Data: Buffer.from(sig.data).toString("base64") } },
    };
    expect((await refused(client.call(LotusBlockApi.SyncSubmitBlock, forged))).data).toEqual({ code: "forbidden" });
    const unsigned: BlockMsg = { ...block, Header: { ...block.Header, BlockSig: null } };
    expect((await refused(client.call(LotusBlockApi.SyncSubmitBlock, unsigned))).data).toEqual({ code: "forbidden" });
  });

  test("a block for a future epoch is refused with its code", async () => {
    const block = await client.call(LotusBlockApi.MinerCreateBlock, template(devnet.headEpoch() + 10));
    const err = await refused(client.call(LotusBlockApi.SyncSubmitBlock, block));
    expect(err.data).toEqual({ code: "future-epoch" });
    expect(err.message).toContain("in the future");
  });

  test("a miner whose worker key the devnet lacks cannot have blocks created; messages in a template are refused", async () => {
    const err = await refused(client.call(LotusBlockApi.MinerCreateBlock, template(devnet.headEpoch(), "t01001")));
    expect(err.message).toContain(configuredWorker);
    expect(err.message).toContain("wallet lacks");
    const message = {
      Message: {
        Version: 0,
        To: "t01000",
        From: devnet.minerWorker(1000),
        Nonce: 0,
        Value: "0",
        GasLimit: 0,
        GasFeeCap: "0",
        GasPremium: "0",
        Method: 0,
        Params: null,
      },
      Signature: { Type: 1 as const, Data: "" },
    };
    const withMessages = { ...template(devnet.headEpoch()), Messages: [message] };
    const err2 = await refused(client.call(LotusBlockApi.MinerCreateBlock, withMessages));
    expect(err2.data).toEqual({ code: "malformed" });
    expect(err2.message).toContain("its own pool");
  });
});
