import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { bearer } from "../../src/core/auth/index.ts";
import { RpcClient } from "../../src/core/rpc/index.ts";
import { Venus } from "../../src/core/sector/api.ts";
import { type AllocatedSector, type SectorID, zeroCommD } from "../../src/core/sector/index.ts";
import type { Beacon, CommDCalculator, SealVerifier, UpdateVerifier } from "../../src/devnet/index.ts";
import { type RunningManager, startManager } from "../../src/manager/daemon.ts";
import type { PieceHasher } from "../../src/manager/market/import.ts";
import { testAuth } from "../helpers/auth.ts";
import { FakeClock, fakeVerifier, managerConfig, tempDir } from "./helpers.ts";
import { jsCommDCalculator } from "./market-helpers.ts";

export const BLOCK_MS = 1000;

export interface TestManager {
  manager: RunningManager;
  client: RpcClient;
  clock: FakeClock;
  home: string;
  persistPath: string;
  /** The [[Common.PieceStores]] directory "pieces". */
  piecesPath: string;
  verifier: SealVerifier;
  /** Tokens of this manager; `client` sends the admin one. */
  tokens: Record<"read" | "write" | "admin", string>;
  /** Moves the chain on by whole epochs and processes them. */
  advance(epochs: number): Promise<void>;
  close(): Promise<void>;
}

export interface TestManagerOptions {
  preThreshold?: number;
  proveThreshold?: number;
  maxWait?: string;
  miner?: Record<string, unknown>;
  verifier?: SealVerifier;
  beacon?: Beacon;
  /** Default: the TypeScript compute_comm_d of market-helpers.ts. */
  commD?: CommDCalculator;
  /** Default: the proofs library's generate_piece_commitment. */
  pieceHasher?: PieceHasher;
  /** A second devnet miner, 1001, configured like 1000. */
  secondMiner?: boolean;
  /** Replica update (SnapDeals) proofs; default: none can be verified. */
  updateVerifier?: UpdateVerifier;
  /**
   * CC sectors of miner 1000 active from genesis (a pre-seal manifest), their files in persist-1 (a 2048-byte
   * sealed file, a cache with p_aux); CommR of sector n is PRESEAL_COMM_R(n).
   */
  presealed?: number[];
}

/** The CommR of pre-sealed test sector n. */
export function PRESEAL_COMM_R(n: number): number[] {
  return Array.from({ length: 32 }, (_, i) => (i === 31 ? n & 0x3f : (i * 17 + n) % 256));
}

function writePreseal(home: string, persistPath: string, numbers: number[]): string {
  for (const n of numbers) {
    const name = `s-t01000-${n}`;
    mkdirSync(join(persistPath, "sealed"), { recursive: true });
    mkdirSync(join(persistPath, "cache", name), { recursive: true });
    writeFileSync(join(persistPath, "sealed", name), new Uint8Array(2048));
    writeFileSync(join(persistPath, "cache", name, "p_aux"), "cc");
  }
  const manifest = join(home, "preseal-t01000.json");
  const Sectors = numbers.map((n) => ({
    Number: n,
    SealProof: 5,
    CommR: Buffer.from(PRESEAL_COMM_R(n)).toString("hex"),
  }));
  writeFileSync(manifest, JSON.stringify({ Actor: 1000, Store: "persist-1", Sectors }));
  return manifest;
}

/** An in-process manager on a real socket, with a manual clock and the fake verifier. */
export async function startTestManager(o: TestManagerOptions = {}): Promise<TestManager> {
  const dir = tempDir("damocles-manager-");
  const persistPath = join(dir.path, "persist-1");
  const piecesPath = join(dir.path, "pieces");
  mkdirSync(persistPath, { recursive: true });
  mkdirSync(piecesPath, { recursive: true });
  const actors = o.secondMiner ? [1000, 1001] : [1000];
  const clock = new FakeClock();
  const config = managerConfig({
    Common: {
      PersistStores: [{ Name: "persist-1", Path: persistPath }],
      PieceStores: [{ Name: "pieces", Path: piecesPath }],
      Devnet: {
        BlockTime: "1s",
        PreCommitChallengeDelay: 3,
        SealRandomnessLookback: 2,
        MessagePackDelay: 1,
        MessageLandDelay: 1,
        Miners: actors.map((Actor) => ({
          Actor,
          SectorSize: "2KiB",
          ...(Actor === 1000 && o.presealed ? { PreSealed: writePreseal(dir.path, persistPath, o.presealed) } : {}),
        })),
      },
    },
    Miners: actors.map((Actor) => ({
      Actor,
      ...o.miner,
      Commitment: {
        Pre: { Batch: { Threshold: o.preThreshold ?? 1, MaxWait: o.maxWait ?? "1h", CheckInterval: "1h" } },
        Prove: { Batch: { Threshold: o.proveThreshold ?? 1, MaxWait: o.maxWait ?? "1h", CheckInterval: "1h" } },
      },
    })),
  });
  const verifier = o.verifier ?? fakeVerifier();
  const auth = await testAuth(dir.path);
  const manager = await startManager({
    auth,
    home: dir.path,
    config,
    hostname: "127.0.0.1",
    port: 0,
    verifier,
    updateVerifier: o.updateVerifier,
    beacon: o.beacon,
    commD: o.commD ?? jsCommDCalculator(),
    pieceHasher: o.pieceHasher,
    now: clock.now,
  });
  const client = new RpcClient(manager.url, { headers: bearer(auth.tokens.admin) });
  return {
    manager,
    client,
    tokens: auth.tokens,
    clock,
    home: dir.path,
    persistPath,
    piecesPath,
    verifier,
    async advance(epochs) {
      clock.advance(epochs * BLOCK_MS);
      await manager.services.devnet!.tick();
    },
    async close() {
      client.close();
      await manager.stop();
      dir.remove();
    },
  };
}

export const TEST_COMM_R = Array.from({ length: 32 }, (_, i) => (i * 13 + 7) % 256);
export const CC_COMM_D = [...zeroCommD(2048)];

export function report(client: RpcClient, sid: SectorID, prev: string, next: string, event: string) {
  return client.call(Venus.ReportState, sid, {
    Worker: { Instance: "test-worker", Location: "/tmp/store1" },
    StateChange: { Prev: prev, Next: next, Event: event },
    Failure: null,
  });
}

export async function allocate(client: RpcClient): Promise<AllocatedSector> {
  const s = await client.call(Venus.AllocateSector, { AllowedMiners: null, AllowedProofTypes: null });
  if (!s) throw new Error("AllocateSector returned null");
  return s;
}

export { fakeVerifier };
