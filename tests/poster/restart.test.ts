import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Proving } from "../../src/core/sector/api-proving.ts";
import { logTail, type ManagerHandle, startManager, until } from "../helpers/cluster.ts";
import { provingClient, startPoStManager } from "../helpers/post-cluster.ts";

/**
 * kill -9 of the manager between pushing a WindowPoSt and its landing: the restarted poster follows the
 * recorded message instead of proving and submitting again, and no deadline is missed.
 */

const ACTOR = 1000;
let tmp: string;
let home: string;
let manager: ManagerHandle;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "damocles-poster-restart-"));
  home = join(tmp, "manager");
  manager = await startPoStManager(home, { sectors: [1, 2] });
}, 120_000);

afterAll(async () => {
  await manager?.stop();
  if (!process.env.DAMOCLES_KEEP_TEST_DIRS) rmSync(tmp, { recursive: true, force: true });
});

test("a manager killed with a WindowPoSt in flight resumes it after restart: proven once, nothing missed", async () => {
  let c = provingClient(manager);
  const failWithLog = (err: Error) => {
    throw new Error(`${err.message}\n${logTail(manager.log, 60)}`);
  };
  // Catch the poster between push and landing (about two epochs).
  const caught = await until(
    "a deadline whose WindowPoSt is submitted but not landed",
    async () => (await c.call(Proving.Deadlines, ACTOR)).find((d) => d.poster?.status === "submitted"),
    300_000,
    50,
  ).catch(failWithLog);
  manager.proc.kill("SIGKILL");
  await manager.proc.exited;
  rmSync(join(home, "api"), { force: true });

  manager = await startManager(home, undefined, ["--poster"]);
  c = provingClient(manager);
  const open = caught.poster!.open;
  const record = await until(
    `the chain's record of the deadline opening at ${open}`,
    async () => (await c.call(Proving.Records, ACTOR, 100)).find((r) => r.open === open && r.outcome !== undefined),
    120_000,
    250,
  ).catch(failWithLog);
  expect(record.outcome).toBe("proven");
  expect(record.verifiedProofs).toBe(1);
  expect(record.rejectedProofs).toBe(0);
  const mine = (await c.call(Proving.Deadlines, ACTOR)).find((d) => d.index === caught.index)!;
  expect(mine.poster?.open === open ? mine.poster.status : "proven").toBe("proven");

  // And the next proving period goes on as before: every deadline proven, no faults, nothing rejected.
  const info = await c.call(Proving.Info, ACTOR);
  const after = info.current.currentEpoch;
  const holding = (await c.call(Proving.Deadlines, ACTOR)).filter((d) => d.sectors > 0).length;
  await until(
    "a full proving period after the restart",
    async () => {
      const closed = (await c.call(Proving.Records, ACTOR, 100)).filter(
        (r) => r.open > after && r.outcome !== undefined,
      );
      return closed.length >= holding ? closed : undefined;
    },
    300_000,
    500,
  ).catch(failWithLog);
  const stats = (await c.call(Proving.Info, ACTOR)).stats;
  expect(stats).toMatchObject({ faultsDetected: 0, faultsDeclared: 0, windowPoStsRejected: 0, deadlinesMissed: 0 });
}, 600_000);
