import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { bearer } from "../../src/core/auth/index.ts";
import { openKeystore } from "../../src/core/chain/keystore.ts";
import { RpcClient } from "../../src/core/rpc/index.ts";
import { Venus } from "../../src/core/sector/api.ts";
import { OnChainState, SubmitResult } from "../../src/core/sector/index.ts";
import { KVStore } from "../../src/core/store/index.ts";
import {
  acceptAllPoStVerifier,
  acceptAllUpdateVerifier,
  devnetSettings,
  type RunningDevnetNode,
  startDevnetNode,
} from "../../src/devnet/index.ts";
import { LotusChainError } from "../../src/manager/chain/lotus/errors.ts";
import { type RunningManager, startManager } from "../../src/manager/daemon.ts";
import { testAuth } from "../helpers/auth.ts";
import { allocate, CC_COMM_D, report, TEST_COMM_R } from "./fixture.ts";
import { FakeClock, fakeVerifier, managerConfig, tempDir, waitFor } from "./helpers.ts";
import { jsCommDCalculator } from "./market-helpers.ts";

/**
 * The manager on a chain node named by [Common.API] Chain (`damocles devnet run`'s node, on a real socket):
 * everything it learns and sends goes through the Lotus-API client, its messages are real signed CBOR
 * messages the node checks (here signed by the node's wallet, which holds the devnet's dev worker key).
 */

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const undo of cleanup.splice(0).reverse()) await undo();
});

const DEVNET = {
  BlockTime: "1s",
  PreCommitChallengeDelay: 3,
  SealRandomnessLookback: 2,
  MessagePackDelay: 1,
  MessageLandDelay: 1,
  Miners: [{ Actor: 1000, SectorSize: "2KiB" }],
};

/** A devnet node; with `worker`, miner 1000's worker is that address (the node's wallet lacks its key). */
async function startNode(clock: FakeClock, worker?: string): Promise<RunningDevnetNode> {
  const home = tempDir("damocles-devnet-node-");
  cleanup.push(() => home.remove());
  const devnet = worker ? { ...DEVNET, Miners: [{ ...DEVNET.Miners[0], Worker: worker }] } : DEVNET;
  const node = await startDevnetNode({
    home: home.path,
    settings: devnetSettings(managerConfig({ Common: { Devnet: devnet } }).Common.Devnet),
    hostname: "127.0.0.1",
    port: 0,
    verifiers: { seal: fakeVerifier(), post: acceptAllPoStVerifier, update: acceptAllUpdateVerifier },
    now: clock.now,
  });
  cleanup.push(() => node.stop());
  return node;
}

async function startManagerOn(
  chain: string,
  clock: FakeClock,
  actor = 1000,
  dir = managerHome(),
): Promise<{ manager: RunningManager; home: string }> {
  const persistPath = join(dir.path, "persist-1");
  mkdirSync(persistPath, { recursive: true });
  const config = managerConfig({
    Common: { API: { Chain: chain }, PersistStores: [{ Name: "persist-1", Path: persistPath }] },
    Miners: [
      {
        Actor: actor,
        Commitment: {
          Pre: { Batch: { Threshold: 1, MaxWait: "1h", CheckInterval: "1h" } },
          Prove: { Batch: { Threshold: 1, MaxWait: "1h", CheckInterval: "1h" } },
        },
      },
    ],
  });
  const manager = await startManager({
    auth: await testAuth(dir.path),
    home: dir.path,
    config,
    hostname: "127.0.0.1",
    port: 0,
    verifier: fakeVerifier(),
    commD: jsCommDCalculator(),
    now: clock.now,
  });
  cleanup.push(() => manager.stop());
  return { manager, home: dir.path };
}

function managerHome(): { path: string; remove(): void } {
  const dir = tempDir("damocles-manager-node-");
  cleanup.push(() => dir.remove());
  return dir;
}

/**
 * A sector's PreCommit from a manager on `node`: submitted over the manager's RPC, pushed as a signed message,
 * landed through the client. Answers the worker account before and after.
 */
async function preCommitThrough(node: RunningDevnetNode, clock: FakeClock, manager: RunningManager, home: string) {
  const auth = await testAuth(home);
  const client = new RpcClient(manager.url, { headers: bearer(auth.tokens.admin) });
  cleanup.push(() => client.close());
  const advance = async (epochs: number) => {
    clock.advance(epochs * 1000);
    await node.chain.tick();
    const epoch = node.chain.headEpoch();
    await waitFor(async () => (await manager.services.chain.head()).epoch === epoch, `the manager to see ${epoch}`);
  };
  await advance(10);
  const sector = await allocate(client);
  const sid = sector.ID;
  await report(client, sid, "Empty", "Allocated", "Allocate");
  const ticket = await client.call(Venus.AssignTicket, sid);
  await report(client, sid, "TreeDBuilt", "TicketAssigned", "AssignTicket");
  const info = { CommR: TEST_COMM_R, CommD: CC_COMM_D, Ticket: ticket, Deals: [] };
  expect((await client.call(Venus.SubmitPreCommit, sector, info, false)).Res).toBe(SubmitResult.Accepted);
  const before = node.chain.account(node.chain.minerWorker(1000))!;
  await waitFor(() => node.chain.pendingMessageCount().pending === 1, "the signed PreCommit to reach the node");
  await advance(1);
  await advance(1);
  await waitFor(
    async () => (await client.call(Venus.PollPreCommitState, sid)).State === OnChainState.Landed,
    "the PreCommit to land",
  );
  expect((await node.chain.preCommitInfo(1000, sid.Number))?.commR).toEqual(TEST_COMM_R);
  return { before, after: node.chain.account(node.chain.minerWorker(1000))! };
}

describe("the manager on a chain node ([Common.API] Chain)", () => {
  test("a PreCommit travels as a signed message the node checks, and lands through the client", async () => {
    const clock = new FakeClock();
    const node = await startNode(clock);
    const token = readFileSync(node.tokenFile, "utf8").trim();
    const { manager, home } = await startManagerOn(`${token}:/ip4/127.0.0.1/tcp/${node.port}/http`, clock);
    expect(manager.services.devnet).toBeUndefined();
    expect(manager.services.chain.kind).toBe("lotus");
    const { before, after } = await preCommitThrough(node, clock, manager, home);
    // The worker account sent it (signed by the node's wallet, which holds the dev key): its nonce moved on
    // and it paid for the gas.
    expect(after.nonce).toBe(1);
    expect(BigInt(after.balance)).toBeLessThan(BigInt(before.balance));
    expect(readOutbox(home).map((e) => e.signer)).toEqual(["node"]);
  }, 30_000);

  test("a worker key in the manager's keystore signs locally; the node only checks and executes", async () => {
    const dir = managerHome();
    const worker = openKeystore(dir.path, "testnet").create("secp256k1");
    const clock = new FakeClock();
    const node = await startNode(clock, worker.string);
    const token = readFileSync(node.tokenFile, "utf8").trim();
    const on = `${token}:/ip4/127.0.0.1/tcp/${node.port}/http`;
    const { manager, home } = await startManagerOn(on, clock, 1000, dir);
    const { before, after } = await preCommitThrough(node, clock, manager, home);
    expect(node.chain.minerWorker(1000)).toBe(worker.string);
    expect(after.nonce).toBe(before.nonce + 1);
    const outbox = readOutbox(home);
    expect(outbox.map((e) => e.signer)).toEqual(["local"]);
  }, 30_000);

  test("an unreachable node, a bad token and a miner the node lacks stop the manager with what to fix", async () => {
    const clock = new FakeClock();
    const node = await startNode(clock);
    const reject = async (chain: string, actor = 1000) => {
      try {
        await startManagerOn(chain, clock, actor);
      } catch (err) {
        expect(err).toBeInstanceOf(LotusChainError);
        return err as LotusChainError;
      }
      throw new Error(`the manager started on ${chain}`);
    };
    const closed = Bun.serve({ port: 0, fetch: () => new Response("") });
    const closedPort = closed.port;
    closed.stop(true);
    const unreachable = await reject(`/ip4/127.0.0.1/tcp/${closedPort}/http`);
    expect(unreachable.code).toBe("unreachable");
    expect(unreachable.message).toContain("[Common.API] Chain");
    const forged = await reject(`forged.token.value:/ip4/127.0.0.1/tcp/${node.port}/http`);
    expect(forged.code).toBe("unauthorized");
    expect(forged.message).toContain("Token");
    expect(forged.message).not.toContain("forged.token.value");
    const token = readFileSync(node.tokenFile, "utf8").trim();
    const foreign = await reject(`${token}:/ip4/127.0.0.1/tcp/${node.port}/http`, 1001);
    expect(foreign.code).toBe("unknown-miner");
    expect(foreign.message).toContain("1001");
  }, 30_000);
});

/** The manager's message outbox as its store holds it now (a second connection to the same database). */
function readOutbox(home: string): { signer: string }[] {
  const store = KVStore.open(join(home, "damocles.db"));
  try {
    return store
      .collection("common")
      .scanJSON<{ signer: string }>("chain/outbox/")
      .map((e) => e.value);
  } finally {
    store.close();
  }
}
