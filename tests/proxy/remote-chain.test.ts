import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Hono } from "hono";
import { openAuthenticator } from "../../src/core/auth/index.ts";
import {
  mountRpc,
  RpcCallError,
  RpcClient,
  RpcErrorCode,
  RpcRegistry,
  type RunningServer,
  serve,
} from "../../src/core/rpc/index.ts";
import { PoStChainApi } from "../../src/core/sector/api-chain.ts";
import type { ChainPolicy, PoStChain, PoStMessage, PoStRecord } from "../../src/core/sector/chain.ts";
import { parseProxyAddr } from "../../src/manager/proxy/addr.ts";
import { registerPoStChainApi } from "../../src/manager/proxy/chain-api.ts";
import { ProxySourceError, RemotePoStChain } from "../../src/manager/proxy/remote-chain.ts";
import { until } from "../helpers/cluster.ts";

/**
 * Damocles.PoStChain* round trips between registerPoStChainApi and RemotePoStChain over a real socket,
 * against a scripted in-process chain: what crosses the wire, what each side refuses, and head polling.
 */

const POLICY: ChainPolicy = {
  blockTimeMs: 40,
  preCommitChallengeDelay: 10,
  sealRandomnessLookback: 5,
  maxTicketAge: 100,
  maxProveCommitDuration: 100,
  interactivePoRepConfidence: 2,
  wpostPeriodDeadlines: 4,
  wpostChallengeWindow: 30,
  wpostChallengeLookback: 10,
  messageConfidence: 2,
};

const commR = Array.from({ length: 32 }, (_, i) => i);
const record: PoStRecord = {
  actor: 1000,
  deadline: 2,
  periodStart: 0,
  open: 60,
  close: 90,
  challenge: 50,
  partitions: [{ index: 0, sectors: [1, 2], proven: true, provenEpoch: 70, message: "bafy-x" }],
  outcome: "proven",
  verifiedProofs: 1,
  rejectedProofs: 0,
  declaredFaults: [],
  detectedFaults: [],
  recovered: [],
};
const pushed: PoStMessage[] = [];
let headEpoch = 100;
/** What the scripted randomness answers; a test swaps in a wrong length to see the client refuse it. */
let randomness = new Uint8Array(32).fill(7);

const fakeChain: PoStChain = {
  head: async () => ({ epoch: headEpoch, timestamp: 1_700_000_000_000 + headEpoch * POLICY.blockTimeMs }),
  policy: () => POLICY,
  minerInfo: async (actor) =>
    actor === 1000 ? { actor, sectorSize: 2048, sealProofType: 5, windowPoStProofType: 10 } : undefined,
  provingDeadline: async () => ({
    currentEpoch: headEpoch,
    periodStart: 0,
    index: 2,
    open: 60,
    close: 90,
    challenge: 50,
  }),
  provingPartitions: async () => [
    { index: 0, sectors: [{ number: 1, sealProof: 5, commR }], faults: [], proven: false },
  ],
  windowPoStRandomness: async (_actor, epoch) => {
    if (epoch > headEpoch) throw new Error(`randomness for epoch ${epoch} is not available yet (head is ${headEpoch})`);
    return randomness;
  },
  pushMessage: async (msg) => {
    pushed.push(msg as PoStMessage);
    return "bafy-pushed";
  },
  messageLookup: async (cid) =>
    cid === "bafy-pushed"
      ? { cid, message: pushed[0]!, status: "landed", pushedEpoch: 95, packedEpoch: 96, landedEpoch: 98 }
      : undefined,
  isElected: async (_actor, epoch) => epoch % 2 === 0,
  winningPoStRandomness: async () => new Uint8Array(32).fill(9),
  winningSectorSet: async () => [{ number: 1, sealProof: 5, commR }],
  submitBlock: async (actor, epoch, proofs) => ({ actor, epoch, ok: proofs.length === 1, sectors: 1 }),
  faults: async () => [{ number: 3, since: 80, kind: "declared", reason: "skipped" }],
  postRecords: async (_actor, limit) => [record].slice(0, limit ?? 100),
  provingStats: async () => ({
    windowPoStsVerified: 3,
    windowPoStsRejected: 0,
    faultsDeclared: 1,
    faultsDetected: 0,
    recoveries: 0,
    deadlinesMissed: 0,
    blocksMined: 2,
    winningPoStsRejected: 0,
  }),
};

let server: RunningServer;
let addr: string;
let remote: RemotePoStChain;

beforeAll(async () => {
  const registry = new RpcRegistry();
  registerPoStChainApi(registry, fakeChain);
  server = serve({
    auth: openAuthenticator,
    app: mountRpc(new Hono(), registry, openAuthenticator),
    registry,
    hostname: "127.0.0.1",
    port: 0,
  });
  addr = `127.0.0.1:${server.server.port}`;
  remote = await RemotePoStChain.connect(addr);
});

afterAll(async () => {
  remote?.close();
  await server?.stop();
});

const message: PoStMessage = {
  from: 1000,
  nonce: 7,
  method: "SubmitWindowedPoSt",
  post: {
    deadline: 2,
    open: 60,
    partitions: [{ index: 0, skipped: [3], recovered: [] }],
    proofs: [{ postProof: 10, proof: "AAEC" }],
  },
};

describe("Damocles.PoStChain* between the devnet side and RemotePoStChain", () => {
  test("every PoStChain method round-trips with the chain's own types", async () => {
    expect(remote.policy()).toEqual(POLICY);
    expect(await remote.head()).toEqual(await fakeChain.head());
    expect(await remote.minerInfo(1000)).toEqual({
      actor: 1000,
      sectorSize: 2048,
      sealProofType: 5,
      windowPoStProofType: 10,
    });
    expect(await remote.minerInfo(1001)).toBeUndefined();
    expect((await remote.provingDeadline(1000)).open).toBe(60);
    expect(await remote.provingPartitions(1000, 60)).toEqual(await fakeChain.provingPartitions(1000, 60));
    const rand = await remote.windowPoStRandomness(1000, 50);
    expect(rand).toBeInstanceOf(Uint8Array);
    expect([...rand]).toEqual([...randomness]);
    expect([...(await remote.winningPoStRandomness(1000, 50))]).toEqual(new Array(32).fill(9));
    expect(await remote.pushMessage(message)).toBe("bafy-pushed");
    expect(pushed.at(-1)).toEqual(message);
    expect(await remote.messageLookup("bafy-pushed")).toMatchObject({ status: "landed", landedEpoch: 98, message });
    expect(await remote.messageLookup("bafy-unknown")).toBeUndefined();
    expect(await remote.isElected(1000, 4)).toBe(true);
    expect(await remote.isElected(1000, 5)).toBe(false);
    expect(await remote.winningSectorSet(1000, 4)).toEqual([{ number: 1, sealProof: 5, commR }]);
    expect(await remote.submitBlock(1000, 4, [{ postProof: 3, proof: "AAEC" }])).toEqual({
      actor: 1000,
      epoch: 4,
      ok: true,
      sectors: 1,
    });
    expect(await remote.faults(1000)).toEqual(await fakeChain.faults(1000));
    expect(await remote.postRecords(1000, 5)).toEqual([record]);
    expect((await remote.provingStats(1000)).blocksMined).toBe(2);
  });

  test("a chain refusal reaches the proxy as an RPC error with the chain's words", async () => {
    const err = await remote.windowPoStRandomness(1000, 500).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RpcCallError);
    expect((err as RpcCallError).message).toContain("randomness for epoch 500 is not available yet");
  });

  test("the server refuses bad params naming the field and the value", async () => {
    const raw = new RpcClient(addr);
    const bad = async (method: string, params: unknown[]) => {
      const e = await raw.callRaw(method, params).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(RpcCallError);
      expect((e as RpcCallError).code).toBe(RpcErrorCode.InvalidParams);
      return (e as RpcCallError).rpcMessage;
    };
    expect(await bad(PoStChainApi.ProvingDeadline.name, ["f01000"])).toMatch(/"actor".*"f01000"/);
    expect(await bad(PoStChainApi.ProvingPartitions.name, [1000, 1.5])).toMatch(/"open".*1\.5/);
    // Only WindowPoSt submissions go through a proxy; a PreCommit is not a PoSt message.
    expect(
      await bad(PoStChainApi.PushMessage.name, [
        { from: 1000, nonce: 1, method: "PreCommitSectorBatch2", sectors: [] },
      ]),
    ).toContain("message.method");
    const proofless = { ...message, post: { ...message.post, proofs: [{ postProof: 10, proof: "not base64!" }] } };
    expect(await bad(PoStChainApi.PushMessage.name, [proofless])).toContain("message.post.proofs.0.proof");
    raw.close();
  });

  test("the client refuses a seal message before sending, and a malformed answer from the source", async () => {
    const seal = { from: 1000, nonce: 1, method: "ProveCommitSectors3" as const, sectors: [] };
    await expect(remote.pushMessage(seal)).rejects.toThrow("pushes only SubmitWindowedPoSt");
    randomness = new Uint8Array(16);
    try {
      await expect(remote.windowPoStRandomness(1000, 50)).rejects.toThrow("randomness is 32 bytes");
    } finally {
      randomness = new Uint8Array(32).fill(7);
    }
  });

  test("onHead delivers every new epoch once, in order", async () => {
    const seen: number[] = [];
    const stop = remote.onHead((e) => seen.push(e));
    await until("the first head", () => (seen.length >= 1 ? true : undefined), 5_000, 10);
    expect(seen).toEqual([headEpoch]);
    headEpoch += 3;
    await until("three more epochs", () => (seen.length >= 4 ? true : undefined), 5_000, 10);
    headEpoch += 1;
    await until("one more epoch", () => (seen.length >= 5 ? true : undefined), 5_000, 10);
    stop();
    expect(seen).toEqual([100, 101, 102, 103, 104]);
  });
});

describe("connecting to a proxy source", () => {
  test("a closed port: the error names the address and asks whether it is a devnet manager", async () => {
    const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const port = probe.port;
    probe.stop(true);
    const err = await RemotePoStChain.connect(`127.0.0.1:${port}`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProxySourceError);
    expect((err as Error).message).toContain(`127.0.0.1:${port}`);
    expect((err as Error).message).toContain("a damocles manager hosting the devnet?");
  });

  test("a JSON-RPC server without Damocles.PoStChain*: says it does not serve them", async () => {
    const empty = new RpcRegistry();
    const other = serve({
      auth: openAuthenticator,
      app: mountRpc(new Hono(), empty, openAuthenticator),
      registry: empty,
      hostname: "127.0.0.1",
      port: 0,
    });
    try {
      const err = await RemotePoStChain.connect(`127.0.0.1:${other.server.port}`).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ProxySourceError);
      expect((err as Error).message).toContain("does not serve Damocles.PoStChain*");
      expect((err as Error).message).toContain("hosting the devnet?");
    } finally {
      await other.stop();
    }
  });

  test("--proxy forms: ip:port, :port, URL, multiaddr; nonsense is refused", () => {
    expect(parseProxyAddr("127.0.0.1:1789")).toBe("http://127.0.0.1:1789/rpc/v0");
    expect(parseProxyAddr(":1789")).toBe("http://127.0.0.1:1789/rpc/v0");
    expect(parseProxyAddr("[::1]:1789")).toBe("http://[::1]:1789/rpc/v0");
    expect(parseProxyAddr("http://10.0.0.5:1789")).toBe("http://10.0.0.5:1789/rpc/v0");
    expect(parseProxyAddr("/ip4/10.0.0.5/tcp/1789")).toBe("http://10.0.0.5:1789/rpc/v0");
    for (const bad of ["", "nonsense", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:99999", "a b:1789", "ftp://x:1"]) {
      expect({ bad, parsed: parseProxyAddr(bad) }).toEqual({ bad, parsed: undefined });
    }
  });
});
