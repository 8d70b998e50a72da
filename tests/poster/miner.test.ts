import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Proving } from "../../src/core/sector/api-proving.ts";
import { logTail, type ManagerHandle, until } from "../helpers/cluster.ts";
import { provingClient, startPoStManager } from "../helpers/post-cluster.ts";

/** `manager run --miner`: elections on the devnet, real WinningPoSt proofs, blocks verified and counted. */

let tmp: string;
let manager: ManagerHandle;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "damocles-miner-"));
  manager = await startPoStManager(join(tmp, "manager"), {
    sectors: [1, 2, 3],
    runArgs: ["--poster", "--miner"],
    // A 2KiB WinningPoSt takes 15-30 s on two busy cores; at 2 s per epoch the devnet's 30-epoch lateness
    // limit is 60 s, so a slow CI machine cannot turn a correct proof into a "too late" rejection.
    blockTime: "2s",
    configure: (cfg) =>
      cfg
        .replace("#Enabled = false   # WinningPoSt", "Enabled = true   # WinningPoSt")
        .replace("#ElectionPeriod = 30", "ElectionPeriod = 3"),
  });
}, 120_000);

afterAll(async () => {
  await manager?.stop();
  if (!process.env.DAMOCLES_KEEP_TEST_DIRS) rmSync(tmp, { recursive: true, force: true });
});

test("a warm-up proof at start, then won elections produce blocks whose WinningPoSt the devnet verifies", async () => {
  const c = provingClient(manager);
  const info = await until(
    "a mined block",
    async () => {
      const i = await c.call(Proving.Info, 1000);
      return i.stats.blocksMined >= 1 ? i : undefined;
    },
    240_000,
    500,
  ).catch((err) => {
    throw new Error(`${(err as Error).message}\n${logTail(manager.log, 60)}`);
  });
  expect(info.stats.winningPoStsRejected).toBe(0);
  const log = readFileSync(manager.log, "utf8");
  expect(log).toMatch(/warm-up WinningPoSt done in/);
  expect(log).toMatch(/block at epoch \d+ accepted/);
  const metrics = await (await fetch(`http://${manager.api}/metrics`)).text();
  expect(metrics).toMatch(/damocles_manager_prover_winning_post_total\{[^}]*outcome="mined"[^}]*\} [1-9]/);
}, 300_000);
