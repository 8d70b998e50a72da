import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Proving } from "../../src/core/sector/api-proving.ts";
import { runCli } from "../helpers/cli.ts";
import { logTail, type ManagerHandle, until } from "../helpers/cluster.ts";
import { provingClient, startPoStManager } from "../helpers/post-cluster.ts";

/**
 * WindowPoSt end to end on the devnet with real 2KiB replicas: the poster (in-process prover) proves every
 * deadline holding sectors, the devnet verifies each proof with verify_window_post; a removed sealed file
 * is declared faulty while the rest still prove, and recovers once the file is back.
 */

const ACTOR = 1000;
let tmp: string;
let manager: ManagerHandle;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "damocles-poster-"));
  manager = await startPoStManager(join(tmp, "manager"), { sectors: [1, 2, 3, 4] });
}, 120_000);

afterAll(async () => {
  await manager?.stop();
  if (!process.env.DAMOCLES_KEEP_TEST_DIRS) rmSync(tmp, { recursive: true, force: true });
});

const client = () => provingClient(manager);

describe("poster (in-process prover)", () => {
  test("over two proving periods every deadline holding sectors gets a devnet-verified proof, zero faults", async () => {
    const c = client();
    const info = await c.call(Proving.Info, ACTOR);
    expect(info.activeSectors).toBe(4);
    expect(info.prover).toBe("local");
    const start = info.current.currentEpoch;
    const period = info.deadlines * info.challengeWindow;
    const holding = (await c.call(Proving.Deadlines, ACTOR)).filter((d) => d.sectors > 0).map((d) => d.index);
    expect(holding.length).toBeGreaterThan(0);
    // Two full periods after the first deadline that could hold a proof.
    await until(
      "two proving periods of closed deadlines",
      async () => {
        const recs = (await c.call(Proving.Records, ACTOR, 100)).filter(
          (r) => r.outcome !== undefined && r.open > start,
        );
        return recs.length >= holding.length * 2 ? recs : undefined;
      },
      (period * 3 + 40) * info.blockTimeMs + 60_000,
      500,
    ).catch((err) => {
      throw new Error(`${(err as Error).message}\n${logTail(manager.log, 60)}`);
    });
    const records = (await c.call(Proving.Records, ACTOR, 100)).filter(
      (r) => r.outcome !== undefined && r.open > start,
    );
    for (const r of records) {
      expect({ deadline: r.deadline, outcome: r.outcome }).toEqual({ deadline: r.deadline, outcome: "proven" });
      expect(r.verifiedProofs).toBeGreaterThanOrEqual(1);
      expect(holding).toContain(r.deadline);
    }
    const after = await c.call(Proving.Info, ACTOR);
    expect(after.stats.faultsDetected + after.stats.faultsDeclared).toBe(0);
    expect(after.stats.windowPoStsRejected).toBe(0);
    expect(after.stats.windowPoStsVerified).toBeGreaterThanOrEqual(holding.length * 2);
    expect(await c.call(Proving.Faults, ACTOR)).toEqual([]);

    const text = await runCli([
      "util",
      "sealer",
      "proving",
      "deadlines",
      "--home",
      manager.home,
      "--miner",
      String(ACTOR),
    ]);
    if (text.code === 0) expect(text.stdout).toContain("proven");
  }, 600_000);

  test("a removed sealed file is declared faulty, the others still prove, and restoring it recovers the sector", async () => {
    const c = client();
    const rows = await c.call(Proving.Deadlines, ACTOR);
    const target = rows.find((d) => d.sectors > 0)!;
    const records = await c.call(Proving.Records, ACTOR, 100);
    const sector = records.find((r) => r.deadline === target.index)!.partitions[0]!.sectors[0]!;
    const sealed = join(manager.home, "persist-1", "sealed", `s-t0${ACTOR}-${sector}`);
    renameSync(sealed, `${sealed}.away`);
    const checked = await c.call(Proving.Check, ACTOR, target.index, false);
    expect(checked.find((s) => s.number === sector)).toMatchObject({ ok: false });
    expect(checked.find((s) => s.number === sector)!.reason).toContain("missing");

    const declared = await until(
      `sector ${sector} declared faulty in deadline ${target.index}`,
      async () => (await c.call(Proving.Faults, ACTOR)).find((f) => f.number === sector),
      240_000,
      500,
    ).catch((err) => {
      throw new Error(`${(err as Error).message}\n${logTail(manager.log, 60)}`);
    });
    expect(declared.kind).toBe("declared");
    // The deadline itself was still proven over its other sectors.
    const withFault = await until(
      "the deadline with the declared fault to close",
      async () =>
        (await c.call(Proving.Records, ACTOR, 100)).find(
          (r) => r.deadline === target.index && r.declaredFaults.includes(sector) && r.outcome,
        ),
      240_000,
      500,
    );
    expect(withFault.outcome).toBe("partially-faulty");
    expect(withFault.verifiedProofs).toBeGreaterThanOrEqual(1);

    renameSync(`${sealed}.away`, sealed);
    await until(
      `sector ${sector} to recover`,
      async () => ((await c.call(Proving.Faults, ACTOR)).some((f) => f.number === sector) ? undefined : true),
      240_000,
      500,
    ).catch((err) => {
      throw new Error(`${(err as Error).message}\n${logTail(manager.log, 60)}`);
    });
    const info = await c.call(Proving.Info, ACTOR);
    expect(info.stats.recoveries).toBeGreaterThanOrEqual(1);
    expect(info.stats.faultsDetected).toBe(0);
    expect(info.stats.windowPoStsRejected).toBe(0);
  }, 900_000);
});
