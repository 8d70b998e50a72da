import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Hono } from "hono";
import { openAuthenticator } from "../../core/auth/authenticator.ts";
import {
  generatePrivateKey,
  keyAddress,
  MINER_METHODS,
  signedMessageCid,
  signMessage,
  toMinerCall,
} from "../../core/chain/index.ts";
import { LOTUS_RPC_PATH, LotusApi, type LotusMessage } from "../../core/chain/lotus-api.ts";
import { mountRpc, RpcClient, RpcRegistry, type RunningServer, serve } from "../../core/rpc/index.ts";
import { zeroCommD } from "../../core/sector/index.ts";
import { KVStore } from "../../core/store/index.ts";
import { DevnetChain } from "../chain.ts";
import { devnetSettings } from "../config.ts";
import { acceptAllVerifier } from "../verifier.ts";
import { messageFromJson, signedFromJson, signedToJson } from "./message-json.ts";
import { registerDevnetMessageApi } from "./messages.ts";

/** The message side of Filecoin.* over a real socket, with the core RpcClient, on a devnet driven by a fake clock. */

const BLOCK = 1000;
const clock = { t: 1_700_000_000_000 };
const settings = devnetSettings({ BlockTime: BLOCK, MessagePackDelay: 1, MessageLandDelay: 1 });
const ownKey = generatePrivateKey("secp256k1");
const ownWorker = keyAddress(ownKey, "testnet").string;
let chain: DevnetChain;
let running: RunningServer;
let client: RpcClient;

const advance = async (epochs: number) => {
  clock.t += epochs * BLOCK;
  await chain.tick();
};

function preCommitParams(number: number): string {
  const commR = Array.from({ length: 32 }, (_, i) => i + 1);
  const call = toMinerCall(
    {
      method: "PreCommitSectorBatch2",
      sectors: [{ number, sealProof: 5, commR, commD: [...zeroCommD(2048)], sealRandEpoch: 4, dealIds: [] }],
    },
    { expiration: 100_000 },
  );
  return Buffer.from(call.params).toString("base64");
}

function unsigned(from: string, to: string, number: number, nonce = 0): LotusMessage {
  return {
    Version: 0,
    To: to,
    From: from,
    Nonce: nonce,
    Value: "0",
    GasLimit: 0,
    GasFeeCap: "0",
    GasPremium: "0",
    Method: MINER_METHODS.PreCommitSectorBatch2,
    Params: preCommitParams(number),
  };
}

beforeAll(async () => {
  chain = new DevnetChain({
    store: KVStore.open(":memory:"),
    settings,
    verifier: acceptAllVerifier,
    miners: [
      { actor: 1000, sectorSize: 2048, worker: ownWorker },
      { actor: 1001, sectorSize: 2048 },
    ],
    now: () => clock.t,
  });
  await advance(5);
  const registry = registerDevnetMessageApi(new RpcRegistry(), chain, { waitTimeoutMs: 10_000 });
  const app = mountRpc(new Hono(), registry, openAuthenticator, LOTUS_RPC_PATH);
  running = serve({ app, registry, auth: openAuthenticator, hostname: "127.0.0.1", port: 0, path: LOTUS_RPC_PATH });
  client = new RpcClient(`${running.url}${LOTUS_RPC_PATH}`, { timeoutMs: 15_000 });
});

afterAll(async () => {
  chain.close();
  await running.stop();
});

describe("devnet Filecoin.* message API over /rpc/v1", () => {
  test("accounts: ID and key addresses both ways, balance, nonce", async () => {
    const devWorker = chain.minerWorker(1001);
    expect(await client.call(LotusApi.StateLookupID, ownWorker, null)).toBe("t0100");
    expect(await client.call(LotusApi.StateLookupID, devWorker, null)).toBe("t0101");
    expect(await client.call(LotusApi.StateLookupID, "f01001", null)).toBe("t01001");
    expect(await client.call(LotusApi.StateAccountKey, "f0101", null)).toBe(devWorker);
    expect(await client.call(LotusApi.WalletBalance, "t0100")).toBe(settings.GenesisBalance.toString());
    expect(await client.call(LotusApi.MpoolGetNonce, devWorker)).toBe(0);
    await expect(client.call(LotusApi.StateAccountKey, "t0999", null)).rejects.toThrow(/actor not found: t0999/);
  });

  test("MpoolPushMessage signs with the dev key once per uuid; StateWaitMsg and StateSearchMsg answer the receipt", async () => {
    const devWorker = chain.minerWorker(1001);
    const estimated = await client.call(LotusApi.GasEstimateMessageGas, unsigned(devWorker, "t01001", 1), null, null);
    expect(estimated.GasLimit).toBeGreaterThan(0);
    expect(BigInt(estimated.GasFeeCap)).toBeGreaterThanOrEqual(chain.baseFee());
    const spec = { MsgUuid: "0b7c3c59-7a55-4b0b-9a55-2f7d9f1c2a11" };
    const signed = await client.call(LotusApi.MpoolPushMessage, unsigned(devWorker, "t01001", 1), spec);
    const again = await client.call(LotusApi.MpoolPushMessage, unsigned(devWorker, "t01001", 1), spec);
    expect(again).toEqual(signed);
    expect(await client.call(LotusApi.MpoolGetNonce, devWorker)).toBe(1);
    const cid = { "/": signedMessageCid(signedFromJson(signed)).toString() };
    expect(await client.call(LotusApi.StateSearchMsg, null, cid, -1, true)).toBeNull();

    const waiting = client.call(LotusApi.StateWaitMsg, cid, 2, -1, true);
    for (let i = 0; i < 5; i++) await advance(1);
    const look = await waiting;
    expect(look).toMatchObject({ Message: cid, Receipt: { ExitCode: 0, Return: null }, DevnetOutcome: {} });
    expect(look.Receipt.GasUsed).toBeGreaterThan(0);
    expect(look.TipSet).toHaveLength(1);
    expect(chain.processedEpoch()).toBeGreaterThanOrEqual(look.Height + 2);
    expect(await client.call(LotusApi.StateSearchMsg, null, cid, -1, false)).toEqual(look);
    expect((await chain.preCommitInfo(1001, 1))?.number).toBe(1);
  });

  test("MpoolPush takes a locally signed message; refusals name the field; no dev key for a configured Worker", async () => {
    const estimated = await client.call(LotusApi.GasEstimateMessageGas, unsigned(ownWorker, "t01000", 2), null, null);
    const signed = signMessage(messageFromJson(estimated), ownKey);
    const pushed = await client.call(LotusApi.MpoolPush, signedToJson(signed));
    expect(pushed["/"]).toBe(signedMessageCid(signed).toString());
    const stale = signMessage(messageFromJson({ ...estimated, GasLimit: estimated.GasLimit + 1 }), ownKey);
    await expect(client.call(LotusApi.MpoolPush, signedToJson(stale))).rejects.toThrow(/GasPremium: .* cannot replace/);
    const gap = signMessage(messageFromJson({ ...estimated, Nonce: 5 }), ownKey);
    await expect(client.call(LotusApi.MpoolPush, signedToJson(gap))).rejects.toThrow(/Nonce: 5 leaves a gap/);
    await expect(client.call(LotusApi.MpoolPushMessage, unsigned(ownWorker, "t01000", 3), null)).rejects.toThrow(
      /From: this devnet holds no key for t1.*sign the message locally/,
    );
  });
});
