import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { RpcClient } from "../../src/core/rpc/index.ts";
import { Venus } from "../../src/core/sector/api.ts";
import { type AllocatedSector, type SectorID, zeroCommD } from "../../src/core/sector/index.ts";
import type { Beacon } from "../../src/manager/chain/devnet.ts";
import type { SealVerifier } from "../../src/manager/chain/verifier.ts";
import { type RunningManager, startManager } from "../../src/manager/daemon.ts";
import { FakeClock, fakeVerifier, managerConfig, tempDir } from "./helpers.ts";

export const BLOCK_MS = 1000;

export interface TestManager {
  manager: RunningManager;
  client: RpcClient;
  clock: FakeClock;
  home: string;
  persistPath: string;
  verifier: SealVerifier;
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
}

/** An in-process manager on a real socket, with a manual clock and the fake verifier. */
export async function startTestManager(o: TestManagerOptions = {}): Promise<TestManager> {
  const dir = tempDir("damocles-manager-");
  const persistPath = join(dir.path, "persist-1");
  mkdirSync(persistPath, { recursive: true });
  const clock = new FakeClock();
  const config = managerConfig({
    Common: {
      PersistStores: [{ Name: "persist-1", Path: persistPath }],
      Devnet: {
        BlockTime: "1s",
        PreCommitChallengeDelay: 3,
        SealRandomnessLookback: 2,
        MessagePackDelay: 1,
        MessageLandDelay: 1,
        Miners: [{ Actor: 1000, SectorSize: "2KiB" }],
      },
    },
    Miners: [
      {
        Actor: 1000,
        ...o.miner,
        Commitment: {
          Pre: { Batch: { Threshold: o.preThreshold ?? 1, MaxWait: o.maxWait ?? "1h", CheckInterval: "1h" } },
          Prove: { Batch: { Threshold: o.proveThreshold ?? 1, MaxWait: o.maxWait ?? "1h", CheckInterval: "1h" } },
        },
      },
    ],
  });
  const verifier = o.verifier ?? fakeVerifier();
  const manager = await startManager({
    home: dir.path,
    config,
    hostname: "127.0.0.1",
    port: 0,
    verifier,
    beacon: o.beacon,
    now: clock.now,
  });
  const client = new RpcClient(manager.url);
  return {
    manager,
    client,
    clock,
    home: dir.path,
    persistPath,
    verifier,
    async advance(epochs) {
      clock.advance(epochs * BLOCK_MS);
      await manager.services.chain.tick();
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
