import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { type FakeModel, fakeMiner, fakeModel, startFakeLotusNode } from "../../../../tests/helpers/fake-lotus-node.ts";
import { createToken } from "../../../core/auth/index.ts";
import { DEVNET_NETWORK_PREFIX } from "../../../core/chain/lotus-api.ts";
import type { ChainPolicy } from "../../../core/sector/chain.ts";
import type { MessagePort } from "./chain.ts";
import { type ConnectedNode, connectLotusChain, type LotusConnectOptions, parseNodeApiInfo } from "./connect.ts";
import { LotusChainError } from "./errors.ts";

const noMessages: MessagePort = {
  push: () => Promise.reject(new Error("no messages in this test")),
  lookup: async () => undefined,
};

function withMiner(overrides: Partial<FakeModel> = {}): FakeModel {
  const m = fakeModel(overrides);
  m.miners.set(1000, fakeMiner(1000));
  return m;
}

async function refusal(opts: LotusConnectOptions): Promise<LotusChainError> {
  const err = await connectLotusChain(opts).then(
    (chain) => {
      chain.close();
      return new Error("connected");
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LotusChainError);
  // An operator's error: no stack trace text in the message.
  expect((err as Error).message).not.toContain("    at ");
  return err as LotusChainError;
}

const base = { miners: [1000], messageConfidence: 3, messages: () => noMessages };

describe("[Common.API] Chain and Token", () => {
  test("token:multiaddr, an address with Token, an address alone", () => {
    expect(parseNodeApiInfo("eyJhbGc.x.y:/ip4/127.0.0.1/tcp/1234/http")).toEqual({
      address: "/ip4/127.0.0.1/tcp/1234/http",
      token: "eyJhbGc.x.y",
    });
    expect(parseNodeApiInfo("http://node:1234", "tok")).toEqual({ address: "http://node:1234", token: "tok" });
    expect(parseNodeApiInfo("/ip4/10.0.0.1/tcp/1234/http")).toEqual({
      address: "/ip4/10.0.0.1/tcp/1234/http",
      token: undefined,
    });
    expect(parseNodeApiInfo("node:1234", " ")).toEqual({ address: "node:1234", token: undefined });
  });

  test("two different tokens, an empty Chain, an unreadable address", async () => {
    expect(() => parseNodeApiInfo("a:/ip4/127.0.0.1/tcp/1/http", "b")).toThrow(LotusChainError);
    expect(() => parseNodeApiInfo(" ")).toThrow("[Common.API] Chain is empty");
    const err = await refusal({ ...base, chain: "/ip4/127.0.0.1/udp/1" });
    expect(err.code).toBe("bad-config");
  });
});

describe("connectLotusChain", () => {
  test("a Lotus node without Devnet.Policy: the mainnet policy, the node's parameters", async () => {
    const node = await startFakeLotusNode(withMiner({ blockDelaySecs: 30, preCommitChallengeDelay: 150 }));
    const server = node.serve();
    let seen: ConnectedNode | undefined;
    try {
      const chain = await connectLotusChain({
        ...base,
        chain: `${node.tokens.sign}:/ip4/127.0.0.1/tcp/${server.port}/http`,
        expectedNetwork: "mainnet",
        messages: (n) => {
          seen = n;
          return noMessages;
        },
      });
      expect(chain.networkName).toBe("mainnet");
      expect(chain.policy()).toMatchObject({ blockTimeMs: 30_000, maxProveCommitDuration: 3030, messageConfidence: 3 });
      expect(seen?.url).toBe(`http://127.0.0.1:${server.port}/rpc/v1`);
      expect(seen?.policy).toEqual(chain.policy());
      chain.close();
    } finally {
      await server.stop();
    }
  });

  test("a devnet: its Devnet.Policy", async () => {
    const devnetPolicy: ChainPolicy = {
      blockTimeMs: 200,
      preCommitChallengeDelay: 5,
      sealRandomnessLookback: 2,
      maxTicketAge: 40,
      maxProveCommitDuration: 30,
      interactivePoRepConfidence: 1,
      wpostPeriodDeadlines: 4,
      wpostChallengeWindow: 10,
      wpostChallengeLookback: 3,
      messageConfidence: 0,
    };
    const node = await startFakeLotusNode(withMiner({ networkName: `${DEVNET_NETWORK_PREFIX}-x`, devnetPolicy }));
    const chain = await connectLotusChain({
      ...base,
      chain: "127.0.0.1:1",
      token: node.tokens.sign,
      fetch: node.fetch,
    });
    expect(chain.policy()).toEqual(devnetPolicy);
    chain.close();
  });

  test("an unreachable node: the URL, the method, the fix", async () => {
    const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
    const port = probe.port;
    await probe.stop(true);
    const err = await refusal({ ...base, chain: `tok:/ip4/127.0.0.1/tcp/${port}/http`, timeoutMs: 2000 });
    expect(err.code).toBe("unreachable");
    expect(err.message).toStartWith(
      `cannot reach the chain node at http://127.0.0.1:${port}/rpc/v1 (Filecoin.Version): `,
    );
    expect(err.message).toEndWith("; check [Common.API] Chain");
  });

  test("a refused token (another node's, or none) names where to set one", async () => {
    const node = await startFakeLotusNode(withMiner());
    const foreign = await createToken(new Uint8Array(randomBytes(32)), { name: "other", perm: "sign" });
    for (const token of [foreign, undefined]) {
      const err = await refusal({ ...base, chain: "http://node", ...(token ? { token } : {}), fetch: node.fetch });
      expect(err.code).toBe("unauthorized");
      expect(err.message).toContain("the chain node at http://node/rpc/v1 refused the token (Filecoin.Version)");
      expect(err.message).toContain('Chain = "<token>:<multiaddr>" (a token with read,write,sign)');
    }
  });

  test("a node on another network names both", async () => {
    const node = await startFakeLotusNode(withMiner({ networkName: "calibrationnet" }));
    const err = await refusal({
      ...base,
      chain: "http://node",
      token: node.tokens.sign,
      fetch: node.fetch,
      expectedNetwork: "mainnet",
    });
    expect(err.code).toBe("wrong-network");
    expect(err.message).toContain('"calibrationnet"');
    expect(err.message).toContain('"mainnet"');
  });

  test("a configured miner the network does not have", async () => {
    const node = await startFakeLotusNode(withMiner());
    const err = await refusal({
      ...base,
      miners: [1000, 2000],
      chain: "http://node",
      token: node.tokens.sign,
      fetch: node.fetch,
    });
    expect(err.code).toBe("unknown-miner");
    expect(err.message).toContain("f02000");
    expect(err.message).toContain('"mainnet"');
  });
});
