import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromHex, vectors } from "../../../../tests/fixtures/vectors/chain.ts";
import { FakeLotus } from "../../../../tests/helpers/fake-lotus-mpool.ts";
import { decodeMinerParams, Keystore, MINER_METHODS, verifySignedMessage } from "../../../core/chain/index.ts";
import { fromLotusSignedMessage } from "../../../core/chain/lotus-json.ts";
import type { ChainMessage } from "../../../core/sector/api-chain.ts";
import { messageId } from "../../../core/sector/chain.ts";
import { cidToCommitment } from "../../../core/sector/cid.ts";
import { zeroCommD } from "../../../core/sector/commd.ts";
import { KVStore } from "../../../core/store/index.ts";
import type { LotusCaller } from "./caller.ts";
import { Outbox } from "./outbox.ts";
import { DEFAULT_SEND_POLICY, type SendPolicy } from "./policy.ts";
import { MessageSender, type MessageSenderOptions, msgUuidOf } from "./sender.ts";

const ACTOR = 1000;
const CONFIDENCE = 5;
const SEAL_2KIB = 5;
const bytes32 = (seed: number) => Array.from({ length: 32 }, (_, i) => (seed * 7 + i) & 0xff);

const preCommit = (nonce: number, sector = nonce): ChainMessage => ({
  from: ACTOR,
  nonce,
  method: "PreCommitSectorBatch2",
  sectors: [
    {
      number: sector,
      sealProof: SEAL_2KIB,
      commR: bytes32(sector),
      commD: Array.from(zeroCommD(2048)),
      sealRandEpoch: 900,
      dealIds: [],
    },
  ],
});

let dir: string;
let store: KVStore;
let keystore: Keystore;
let node: FakeLotus;
let rpc: LotusCaller;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "lotus-sender-"));
  store = KVStore.open(join(dir, "store.db"));
  keystore = new Keystore(join(dir, "keystore"), "mainnet");
  const worker = keystore.create("secp256k1");
  node = new FakeLotus(keystore.get(worker));
  rpc = node.client();
});

afterEach(async () => {
  await node.stop();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const sender = (opts: Partial<MessageSenderOptions> = {}) =>
  new MessageSender({ rpc, store, keystore, confidence: CONFIDENCE, ...opts });

/** An RPC connection that forwards every call but fails `method` (after forwarding when `after`), like a kill at that point. */
function dying(method: string, after = false): LotusCaller {
  return {
    call: (async (def: { name: string }, ...args: unknown[]) => {
      if (def.name !== method) return (rpc.call as (...a: unknown[]) => Promise<unknown>)(def, ...args);
      if (after) await (rpc.call as (...a: unknown[]) => Promise<unknown>)(def, ...args);
      throw new Error(`killed at ${method}`);
    }) as LotusCaller["call"],
  };
}

const recorded = (id: string) => new Outbox(store).get(id)!;

describe("MessageSender.push", () => {
  test("the same message twice: one id, one MpoolPush; a signed, verifiable miner call from the worker's key", async () => {
    const s = sender();
    const msg = preCommit(1);
    const id = await s.push(msg);
    expect(id).toBe(messageId(msg));
    expect(await s.push(msg)).toBe(id);
    expect(await sender().push(msg)).toBe(id); // a new sender object on the same store
    expect(node.accepted.length).toBe(1);
    const entry = recorded(id);
    expect(entry.signer).toBe("local");
    expect(node.accepted[0]).toBe(entry.cid!);
    const signed = fromLotusSignedMessage(entry.signed!);
    expect(verifySignedMessage(signed)).toBe(true);
    expect(signed.message.from).toBe(node.workerAddress);
    expect(signed.message.to).toBe("f01000");
    expect(signed.message.method).toBe(MINER_METHODS.PreCommitSectorBatch2);
    expect(signed.message.nonce).toBe(0);
    // Default policy: GasLimit × 1.2, the policy's 5 nanoFIL fee cap, the estimated premium.
    expect(signed.message.gasLimit).toBe(1_200_000);
    expect(signed.message.gasFeeCap).toBe(5_000_000_000n);
    expect(signed.message.gasPremium).toBe(1_000n);
    expect(decodeMinerParams("PreCommitSectorBatch2", signed.message.params).sectors[0]!.expiration).toBe(
      node.head + 540 * 2880,
    );
  });

  test("concurrent pushes from one sender take consecutive nonces", async () => {
    const s = sender();
    const ids = await Promise.all([0, 1, 2, 3, 4].map((n) => s.push(preCommit(n))));
    const nonces = ids.map((id) => recorded(id).signed!.Message.Nonce).sort((a, b) => a - b);
    expect(nonces).toEqual([0, 1, 2, 3, 4]);
    expect(node.accepted.length).toBe(5);
  });

  test("the outbox's nonce wins over a node that forgot pending messages", async () => {
    const s = sender();
    await s.push(preCommit(0));
    node.pool.clear(); // a node restarted without its pool: MpoolGetNonce says 0 again
    const id = await s.push(preCommit(1));
    expect(recorded(id).signed!.Message.Nonce).toBe(1);
  });

  test("killed between the record and MpoolPush: the next sender re-pushes the identical bytes, once", async () => {
    const msg = preCommit(3);
    await expect(sender({ rpc: dying("Filecoin.MpoolPush") }).push(msg)).rejects.toThrow("killed");
    const id = messageId(msg);
    const { cid, signed } = recorded(id);
    expect(node.accepted).toEqual([]);
    store.close();
    store = KVStore.open(join(dir, "store.db"));
    const restarted = sender();
    expect((await restarted.lookup(id))?.status).toBe("pending");
    expect(node.accepted).toEqual([cid!]);
    expect(recorded(id).signed).toEqual(signed);
    expect(await restarted.push(msg)).toBe(id);
    expect((await restarted.lookup(id))?.status).toBe("pending");
    expect(node.accepted).toEqual([cid!]);
  });

  test("node wallet: the intent with its MsgUuid is recorded first; repeating after a kill sends nothing new", async () => {
    const policy = (): SendPolicy => ({ ...DEFAULT_SEND_POLICY, sender: node.nodeAddress });
    const msg = preCommit(9);
    const id = messageId(msg);
    // The node signed and pooled it, then the manager died before recording the answer.
    await expect(sender({ policy, rpc: dying("Filecoin.MpoolPushMessage", true) }).push(msg)).rejects.toThrow("killed");
    expect(recorded(id).intent?.msgUuid).toBe(msgUuidOf(id));
    expect(recorded(id).cid).toBeUndefined();
    const s = sender({ policy });
    expect(await s.push(msg)).toBe(id);
    expect(node.pushMessageCalls.map((c) => c.uuid)).toEqual([msgUuidOf(id), msgUuidOf(id)]);
    expect(node.accepted.length).toBe(1);
    expect(recorded(id).cid).toBe(node.accepted[0]!);
    node.include(node.accepted[0]!);
    node.head += CONFIDENCE;
    expect((await s.lookup(id))?.status).toBe("landed");
  });

  test("SubmitWindowedPoSt commits to PoStChainCommit (tag 9) randomness at open − lookback", async () => {
    const msg: ChainMessage = {
      from: ACTOR,
      nonce: 1,
      method: "SubmitWindowedPoSt",
      post: {
        deadline: 3,
        open: 960,
        partitions: [{ index: 0, skipped: [], recovered: [] }],
        proofs: [{ postProof: 5, proof: "AAEC" }],
      },
    };
    const id = await sender().push(msg);
    expect(node.randomnessCalls).toEqual([{ tag: 9, epoch: 940 }]);
    const params = decodeMinerParams("SubmitWindowedPoSt", fromLotusSignedMessage(recorded(id).signed!).message.params);
    expect(params.chainCommitEpoch).toBe(940);
    expect(Array.from(params.chainCommitRand)).toEqual(Array(32).fill((9 * 31 + 940) & 0xff));
  });

  test("ProveCommitSectors3 carries the deals its PreCommit named as pieces", async () => {
    const piece = "baga6ea4seaqasdqtdaosejzmge3dwqcfjjhviwk6mnug24txpsaync4qswnj6ja";
    node.deals.set(77, { pieceCid: piece, size: 2048 });
    const s = sender();
    const pre = preCommit(1, 5);
    if (pre.method === "PreCommitSectorBatch2") pre.sectors[0]!.dealIds = [77];
    await s.push(pre);
    const id = await s.push({
      from: ACTOR,
      nonce: 2,
      method: "ProveCommitSectors3",
      sectors: [{ number: 5, proof: "AAEC" }],
    });
    const params = decodeMinerParams(
      "ProveCommitSectors3",
      fromLotusSignedMessage(recorded(id).signed!).message.params,
    );
    expect(params.sectorActivations[0]!.pieces.map((p) => [p.cid, p.size])).toEqual([[piece, 2048]]);
  });

  test("PreCommitSectorBatch2 params are byte for byte the go-state-types vector", async () => {
    const vector = vectors.params.find((p) => p.name === "two 32GiB sectors, one with data")!;
    const sectors = decodeMinerParams("PreCommitSectorBatch2", fromHex(vector.bytes)).sectors;
    const msg: ChainMessage = {
      from: ACTOR,
      nonce: 1,
      method: "PreCommitSectorBatch2",
      sectors: sectors.map((x) => ({
        number: x.sectorNumber,
        sealProof: x.sealProof,
        commR: Array.from(cidToCommitment(x.sealedCid, "sealed")),
        commD: Array.from(x.unsealedCid ? cidToCommitment(x.unsealedCid, "unsealed") : zeroCommD(2 ** 35)),
        sealRandEpoch: x.sealRandEpoch,
        dealIds: [],
      })),
    };
    const id = await sender({ sectorLifetimeEpochs: 5678901 - node.head }).push(msg);
    const params = fromLotusSignedMessage(recorded(id).signed!).message.params;
    expect(Buffer.from(params).toString("hex")).toBe(vector.bytes);
  });
});

describe("MessageSender.lookup", () => {
  test("an unknown id is undefined", async () => {
    expect(await sender().lookup(messageId(preCommit(1)))).toBeUndefined();
  });

  test("packed until the confidence is reached, then landed", async () => {
    const s = sender();
    const id = await s.push(preCommit(1));
    node.include(recorded(id).cid!);
    const at = node.head;
    expect(await s.lookup(id)).toMatchObject({ status: "packed", packedEpoch: at, pushedEpoch: at });
    node.head += CONFIDENCE - 1;
    expect((await s.lookup(id))?.status).toBe("packed");
    node.head += 1;
    const look = await s.lookup(id);
    expect(look).toMatchObject({ status: "landed", packedEpoch: at, landedEpoch: at + CONFIDENCE, exitCode: 0 });
    expect(look?.message).toEqual(preCommit(1));
    expect(look?.cid).toBe(id);
  });

  test("a reorg takes a landed message back to pending and re-pushes the same bytes", async () => {
    const s = sender();
    const id = await s.push(preCommit(1));
    const { cid } = recorded(id);
    node.include(cid!);
    node.head += CONFIDENCE;
    expect((await s.lookup(id))?.status).toBe("landed");
    node.reorg(cid!);
    expect((await s.lookup(id))?.status).toBe("pending");
    expect(node.pushCalls.filter((c) => c === cid).length).toBe(2);
    expect((await s.lookup(id))?.status).toBe("pending"); // at most one re-push per epoch
    expect(node.pushCalls.filter((c) => c === cid).length).toBe(2);
    expect(new Set(node.accepted)).toEqual(new Set([cid!]));
  });

  test("a replaced message takes its replacement's outcome and records it", async () => {
    const s = sender();
    const id = await s.push(preCommit(1));
    node.include(recorded(id).cid!, { executed: "bafy2bzacereplacement" });
    node.head += CONFIDENCE;
    expect((await s.lookup(id))?.status).toBe("landed");
    expect(recorded(id).replacedBy).toBe("bafy2bzacereplacement");
  });

  test("failed only at confidence, with the devnet's code and per-sector results", async () => {
    const s = sender();
    const id = await s.push(preCommit(1));
    node.include(recorded(id).cid!, {
      exitCode: 16,
      outcome: {
        Code: "ticket-expired",
        Error: "ticket too old",
        Results: [{ Number: 1, Ok: false, Code: "ticket-expired" }],
      },
    });
    expect((await s.lookup(id))?.status).toBe("packed");
    node.head += CONFIDENCE;
    expect(await s.lookup(id)).toMatchObject({
      status: "failed",
      exitCode: 16,
      code: "ticket-expired",
      error: "ticket too old",
      results: [{ number: 1, ok: false, code: "ticket-expired" }],
    });
  });

  test("a failure from a real node (no DevnetOutcome): the code from the exit code map", async () => {
    const s = sender();
    const a = await s.push(preCommit(1));
    const b = await s.push(preCommit(2));
    const c = await s.push(preCommit(3));
    node.include(recorded(a).cid!, { exitCode: 21 });
    node.include(recorded(b).cid!, { exitCode: 16 });
    node.include(recorded(c).cid!, { exitCode: 7 });
    node.head += CONFIDENCE;
    expect(await s.lookup(a)).toMatchObject({ status: "failed", code: "malformed" });
    expect(await s.lookup(b)).toMatchObject({
      status: "failed",
      code: "internal",
      error: "exit code 16 (ErrIllegalArgument)",
    });
    const outOfGas = await s.lookup(c);
    expect(outOfGas).toMatchObject({ status: "failed", exitCode: 7 });
    expect(outOfGas?.code).toBeUndefined();
  });
});
