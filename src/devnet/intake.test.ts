import { afterEach, describe, expect, test } from "bun:test";
import { fromHex, messageNamed, vectors } from "../../tests/fixtures/vectors/chain.ts";
import {
  generatePrivateKey,
  keyAddress,
  MINER_METHODS,
  type PrivateKey,
  signedMessageCid,
  signMessage,
  toMinerCall,
  type UnsignedMessage,
} from "../core/chain/index.ts";
import { ExitCode } from "../core/sector/chain.ts";
import { zeroCommD } from "../core/sector/index.ts";
import { KVStore } from "../core/store/index.ts";
import { DevnetChain } from "./chain.ts";
import { devnetSettings } from "./config.ts";
import { DEVNET_BASE_FEE, gasEstimate, MessageRefusedError } from "./intake.ts";
import { DevnetStore } from "./store.ts";
import { acceptAllVerifier } from "./verifier.ts";

/**
 * Signed Filecoin messages into the devnet: the checks a Lotus pool makes, execution with gas, nonces
 * and receipts, replace-by-fee, the sender's authority, and accounts across a restart. The chain starts
 * at the vector's ticket epoch (its genesis is written first), so the Go vector's PreCommit lands as is.
 */

export const BLOCK = 1000;
export const START = 4_123_460; // the vector's sealRandEpoch is 4_123_456
const SIZE_32GIB = 32 * 1024 ** 3;
export const settings = devnetSettings({ BlockTime: BLOCK, MessagePackDelay: 1, MessageLandDelay: 1 });
export const vectorKey: PrivateKey = { type: "secp256k1", bytes: fromHex(vectors.secp256k1.privateKey) };
export const vectorWorker = keyAddress(vectorKey, "testnet").string;
const open: DevnetChain[] = [];

export function testDevnet(store = KVStore.open(":memory:"), clock = { t: 1_700_000_000_000 }) {
  const db = new DevnetStore(store);
  if (!db.genesis()) {
    db.putGenesis({
      seed: settings.Seed,
      anchorEpoch: START,
      anchorTime: clock.t,
      blockTimeMs: BLOCK,
      createdAt: clock.t,
    });
    db.putProcessed(START);
  }
  const chain = new DevnetChain({
    store,
    settings,
    verifier: acceptAllVerifier,
    miners: [
      { actor: 1000, sectorSize: SIZE_32GIB, worker: vectorWorker },
      { actor: 1001, sectorSize: 2048 },
    ],
    now: () => clock.t,
  });
  open.push(chain);
  const advance = async (epochs: number) => {
    clock.t += epochs * BLOCK;
    await chain.tick();
  };
  return { chain, store, clock, advance };
}

afterEach(() => {
  for (const c of open.splice(0)) c.close();
});

const vectorParams = fromHex(messageNamed("PreCommitSectorBatch2 from the secp256k1 worker").message.params);

function message(over: Partial<UnsignedMessage> = {}): UnsignedMessage {
  return {
    version: 0,
    to: "t01000",
    from: vectorWorker,
    nonce: 0,
    value: 0n,
    gasLimit: 50_000_000,
    gasFeeCap: 1_000n,
    gasPremium: 500n,
    method: MINER_METHODS.PreCommitSectorBatch2,
    params: vectorParams,
    ...over,
  };
}

/** A 2KiB PreCommit of sector `number` for miner 1001. */
export function preCommit2KiB(number: number): Uint8Array {
  const commR = Array.from({ length: 32 }, (_, i) => i + 1);
  return toMinerCall(
    {
      method: "PreCommitSectorBatch2",
      sectors: [{ number, sealProof: 5, commR, commD: [...zeroCommD(2048)], sealRandEpoch: START - 1, dealIds: [] }],
    },
    { expiration: START + 100_000 },
  ).params;
}

function refusal(fn: () => unknown): { field: string; message: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof MessageRefusedError) return { field: err.field, message: err.message };
    throw err;
  }
  throw new Error("expected a refusal");
}

describe("devnet intake of signed messages", () => {
  test("the Go vector's PreCommitSectorBatch2, signed by the worker, is accepted, pre-commits and charges gas", async () => {
    const { chain, advance } = testDevnet();
    const signed = signMessage(message(), vectorKey);
    const cid = chain.pushSigned(signed);
    expect(cid).toBe(signedMessageCid(signed).toString());
    expect(chain.pushSigned(signed)).toBe(cid); // idempotent
    expect(chain.pendingMessageCount().pending).toBe(1);
    const worker = chain.account(vectorWorker)!;
    expect(worker.id).toBe(100);
    expect(chain.account("t0100")).toEqual(worker);
    expect(chain.nextNonce(worker)).toBe(1);
    await advance(3);
    expect((await chain.preCommitInfo(1000, 42))?.number).toBe(42);
    expect((await chain.preCommitInfo(1000, 43))?.number).toBe(43);
    const found = chain.executedMessage(cid, false)!;
    expect(found.lookup.exitCode).toBe(ExitCode.Ok);
    expect(found.gasUsed).toBe(gasEstimate(vectorParams.length));
    const after = chain.account(vectorWorker)!;
    expect(after.nonce).toBe(1);
    const paid = BigInt(found.gasUsed) * DEVNET_BASE_FEE + 50_000_000n * 500n;
    expect(BigInt(after.balance)).toBe(settings.GenesisBalance - paid);
  });

  test("each refusal names the field and the fix", async () => {
    const { chain, advance } = testDevnet();
    const push =
      (over: Partial<UnsignedMessage>, key = vectorKey) =>
      () =>
        chain.pushSigned(signMessage(message(over), key));
    expect(refusal(push({}, generatePrivateKey("secp256k1"))).field).toBe("Signature");
    expect(refusal(push({ nonce: 3 })).message).toMatch(/^Nonce: 3 leaves a gap after .* next nonce 0: use 0/);
    expect(refusal(push({ value: settings.GenesisBalance })).message).toMatch(/^Value: .* holds \d+ attoFIL/);
    expect(refusal(push({ gasFeeCap: 99n, gasPremium: 1n })).message).toMatch(
      /^GasFeeCap: 99 attoFIL is below the base fee 100/,
    );
    expect(refusal(push({ gasLimit: 1000 })).message).toMatch(/^GasLimit: 1000 is below the \d+ gas/);
    expect(refusal(push({ gasLimit: 10_000_000_001 })).message).toMatch(/^GasLimit: .* block gas limit/);
    expect(refusal(push({ to: "t01002" })).message).toMatch(/^To: t01002 is not a miner actor/);
    expect(refusal(push({ method: 7 })).field).toBe("Params");
    expect(refusal(push({ from: "t0999" })).field).toBe("From");
    chain.pushSigned(signMessage(message(), vectorKey));
    await advance(3);
    expect(refusal(push({ gasPremium: 900n })).message).toMatch(/^Nonce: 0 is below .* next nonce 1/);
    expect(chain.pendingMessageCount()).toEqual({ pending: 0, packed: 0 });
  });

  test("replace by fee: the same nonce needs 1.25× the premium; the search follows the replacement", async () => {
    const { chain, advance } = testDevnet();
    const first = chain.pushSigned(signMessage(message(), vectorKey));
    const low = refusal(() => chain.pushSigned(signMessage(message({ gasPremium: 600n }), vectorKey)));
    expect(low.message).toMatch(/^GasPremium: 600 attoFIL cannot replace .* at least 1.25× \(625\)/);
    const second = chain.pushSigned(signMessage(message({ gasPremium: 625n }), vectorKey));
    expect(second).not.toBe(first);
    expect(chain.pendingMessageCount().pending).toBe(1);
    await advance(3);
    expect(chain.executedMessage(first, false)).toBeUndefined();
    expect(chain.executedMessage(first, true)?.lookup.cid).toBe(second);
    expect(chain.account(vectorWorker)!.nonce).toBe(1);
  });

  test("the next nonce counts pooled messages, and so does the balance check; they execute in nonce order", async () => {
    const { chain, advance } = testDevnet();
    const first = chain.pushSigned(signMessage(message(), vectorKey));
    const worker = chain.account(vectorWorker)!;
    expect(chain.nextNonce(worker)).toBe(1);
    const spendable = BigInt(worker.balance) - 50_000_000n * 1_000n;
    const tooMuch = refusal(() => chain.pushSigned(signMessage(message({ nonce: 1, value: spendable }), vectorKey)));
    expect(tooMuch.message).toMatch(/^Value: .* on top of 50000000000 its pending messages may spend/);
    const second = chain.pushSigned(signMessage(message({ nonce: 1, value: 1n }), vectorKey));
    expect(chain.nextNonce(worker)).toBe(2);
    await advance(3);
    // nonce 1 pre-commits the same sectors again: it executes after nonce 0, so it is the one refused.
    expect(chain.executedMessage(first, false)?.lookup.exitCode).toBe(ExitCode.Ok);
    expect(chain.executedMessage(second, false)?.lookup).toMatchObject({ exitCode: 16, code: "already-allocated" });
    expect(chain.account(vectorWorker)!.nonce).toBe(2);
    expect(chain.nextNonce(chain.account(vectorWorker)!)).toBe(2);
  });

  test("a sender that is not the miner's worker executes with exit code 18, and pays", async () => {
    const { chain, advance } = testDevnet();
    const devKey = chain.devKey(1001)!;
    expect(chain.devKey(1000)).toBeUndefined();
    const other = keyAddress(devKey, "testnet").string;
    expect(chain.minerWorker(1001)).toBe(other);
    const cid = chain.pushSigned(signMessage(message({ from: other }), devKey));
    await advance(3);
    const found = chain.executedMessage(cid, false)!;
    expect(found.lookup.exitCode).toBe(ExitCode.ErrForbidden);
    expect(found.lookup.code).toBe("forbidden");
    expect(await chain.preCommitInfo(1000, 42)).toBeUndefined();
    const account = chain.account(other)!;
    expect(account.nonce).toBe(1);
    expect(BigInt(account.balance)).toBeLessThan(settings.GenesisBalance);
  });

  test("accounts, nonces and balances survive a restart on the same store", async () => {
    const store = KVStore.open(":memory:");
    const clock = { t: 1_700_000_000_000 };
    const first = testDevnet(store, clock);
    first.chain.pushSigned(signMessage(message(), vectorKey));
    await first.advance(3);
    const before = [first.chain.account(vectorWorker), first.chain.account("t0101")];
    first.chain.close();
    const again = testDevnet(store, clock);
    expect([again.chain.account(vectorWorker), again.chain.account("t0101")]).toEqual(before);
    expect(again.chain.account("f0100")?.nonce).toBe(1);
    expect(again.chain.devKey(1001)).toEqual(first.chain.devKey(1001)!);
    const next = again.chain.pushSigned(signMessage(message({ nonce: 1, params: vectorParams }), vectorKey));
    expect(next).toBeString();
  });
});
