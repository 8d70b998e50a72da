import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Proving } from "../../src/core/sector/api-proving.ts";
import { logTail, type ManagerHandle, until } from "../helpers/cluster.ts";
import { provingClient, startPoStManager } from "../helpers/post-cluster.ts";

/** `manager run --poster --ext-prover`: the deadlines are proven by the window_post children of ext-prover.cfg. */

let tmp: string;
let manager: ManagerHandle;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "damocles-ext-poster-"));
  const home = join(tmp, "manager");
  manager = await startPoStManager(home, {
    sectors: [1, 2],
    runArgs: ["--poster", "--ext-prover"],
    configure: (cfg) => {
      // After `manager init` wrote the commented default: one WindowPoSt child of this executable.
      writeFileSync(
        join(home, "ext-prover.cfg"),
        '[[WdPost]]\nConcurrent = 1\nReadyTimeoutSecs = 60\n[WdPost.Envs]\nDAMOCLES_TEST_MARK = "ext"\n',
      );
      return cfg;
    },
  });
}, 180_000);

afterAll(async () => {
  await manager?.stop();
  if (!process.env.DAMOCLES_KEEP_TEST_DIRS) rmSync(tmp, { recursive: true, force: true });
});

test("the poster proves through an ext-prover child, which logged it was ready; the devnet verifies", async () => {
  const c = provingClient(manager);
  const info = await c.call(Proving.Info, 1000);
  expect(info.prover).toBe("ext-prover (1 window_post processor)");
  expect(readFileSync(manager.log, "utf8")).toMatch(/ext-prover: window_post child #0 .*ready/);
  const start = info.current.currentEpoch;
  const proven = await until(
    "a deadline proven through the ext-prover",
    async () => (await c.call(Proving.Records, 1000, 100)).find((r) => r.open > start && r.outcome !== undefined),
    300_000,
    500,
  ).catch((err) => {
    throw new Error(`${(err as Error).message}\n${logTail(manager.log, 60)}`);
  });
  expect(proven.outcome).toBe("proven");
  expect(proven.verifiedProofs).toBe(1);
  const stats = (await c.call(Proving.Info, 1000)).stats;
  expect(stats.faultsDeclared + stats.faultsDetected + stats.windowPoStsRejected).toBe(0);
}, 400_000);
