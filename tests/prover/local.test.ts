import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalProver } from "../../src/manager/prover/local.ts";
import { postSectors2KiB } from "../fixtures/post-sectors.ts";
import { copySectors, seedOf, verifyWindow, verifyWinning, windowTask, winningTask } from "./helpers.ts";

// Real 2KiB proofs: the fixture seals its sectors (PC1+PC2) once per process, each PoSt takes about a second.
setDefaultTimeout(10 * 60_000);

const tmp = mkdtempSync(join(tmpdir(), "damocles-local-prover-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const prover = new LocalProver();

describe("LocalProver (real 2KiB proofs)", () => {
  test("WindowPoSt over two sectors verifies; a different seed does not", async () => {
    const sectors = (await postSectors2KiB()).slice(0, 2);
    const seed = seedOf("window");
    const out = await prover.generateWindowPoSt(windowTask(sectors, seed));
    expect(out.faults).toEqual([]);
    expect(out.proofs.length).toBe(1);
    expect(out.proofs[0]!.postProof).toBe(windowTask(sectors, seed).proofType);
    expect(await verifyWindow(sectors, seed, out.proofs)).toBe(true);
    expect(await verifyWindow(sectors, seedOf("other"), out.proofs)).toBe(false);
  });

  test("a missing sealed file is reported in faults, and the proof over the rest verifies", async () => {
    const sectors = copySectors((await postSectors2KiB()).slice(0, 3), join(tmp, "missing"));
    const broken = sectors[1]!;
    rmSync(broken.sealedPath);
    expect(existsSync(broken.sealedPath)).toBe(false);
    const seed = seedOf("faults");
    const out = await prover.generateWindowPoSt(windowTask(sectors, seed));
    expect(out.faults).toEqual([broken.sectorId]);
    expect(out.proofs.length).toBe(1);
    const healthy = sectors.filter((s) => s !== broken);
    expect(await verifyWindow(healthy, seed, out.proofs)).toBe(true);
  });

  test("every sector missing: no proofs, all faults, no throw", async () => {
    const sectors = copySectors((await postSectors2KiB()).slice(3, 5), join(tmp, "all-missing"));
    for (const s of sectors) rmSync(s.sealedPath);
    const out = await prover.generateWindowPoSt(windowTask(sectors, seedOf("all-missing")));
    expect(out).toEqual({ proofs: [], faults: sectors.map((s) => s.sectorId) });
  });

  test("WinningPoSt over the challenged sectors verifies", async () => {
    const sectors = await postSectors2KiB();
    const task = await winningTask(sectors, seedOf("winning"));
    expect(task.replicas.length).toBeGreaterThan(0);
    const proofs = await prover.generateWinningPoSt(task);
    expect(proofs.length).toBe(1);
    expect(proofs[0]!.postProof).toBe(task.proofType);
    expect(await verifyWinning(task, proofs[0]!)).toBe(true);
  });

  test("an empty task and an aborted call reject with a reason", async () => {
    const sectors = await postSectors2KiB();
    await expect(prover.generateWindowPoSt({ ...windowTask(sectors, seedOf("x")), replicas: [] })).rejects.toThrow(
      "no sectors to prove",
    );
    const abort = new AbortController();
    abort.abort(new Error("deadline passed"));
    await expect(prover.generateWindowPoSt(windowTask(sectors.slice(0, 1), seedOf("x")), abort.signal)).rejects.toThrow(
      "deadline passed",
    );
  });
});
