import { expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PoStReplica } from "../prover.ts";
import { checkReplica } from "./check.ts";

/** The pre-PoSt sector check, on synthetic files: each way a replica can be unprovable has its reason. */

function replica(dir: string): PoStReplica {
  const sealedPath = join(dir, "sealed");
  const cacheDir = join(dir, "cache");
  mkdirSync(cacheDir, { recursive: true });
  writeFileSync(sealedPath, new Uint8Array(2048));
  writeFileSync(join(cacheDir, "p_aux"), new Uint8Array(64));
  writeFileSync(join(cacheDir, "sc-02-data-tree-r-last.dat"), new Uint8Array(32));
  return {
    sectorId: 1,
    commR: new Uint8Array(32),
    upgrade: false,
    accesses: { sealedFile: "s", cacheDir: "s" },
    sealedPath,
    cacheDir,
  };
}

const opts = { sectorSize: 2048, timeoutMs: 5_000, strict: false };

test("healthy files pass; missing, short, or incomplete cache fail with the reason", async () => {
  const dir = mkdtempSync(join(tmpdir(), "damocles-check-"));
  try {
    const r = replica(dir);
    expect(await checkReplica(r, opts)).toBeUndefined();
    truncateSync(r.sealedPath, 1024);
    expect(await checkReplica(r, opts)).toBe(`sealed file ${r.sealedPath} has 1024 bytes, expected 2048`);
    rmSync(r.sealedPath);
    expect(await checkReplica(r, opts)).toBe(`sealed file ${r.sealedPath} is missing`);
    writeFileSync(r.sealedPath, new Uint8Array(2048));
    rmSync(join(r.cacheDir, "p_aux"));
    expect(await checkReplica(r, opts)).toBe(`cache dir ${r.cacheDir} has no p_aux`);
    writeFileSync(join(r.cacheDir, "p_aux"), new Uint8Array(64));
    truncateSync(join(r.cacheDir, "sc-02-data-tree-r-last.dat"), 0);
    expect(await checkReplica(r, opts)).toContain("is empty");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("strict mode runs the vanilla proof; its failure and a hung check are reported, not thrown", async () => {
  const dir = mkdtempSync(join(tmpdir(), "damocles-check-"));
  try {
    const r = replica(dir);
    const failing = { ...opts, strict: true, vanilla: async () => Promise.reject(new Error("bad tree")) };
    expect(await checkReplica(r, failing)).toBe("vanilla proof failed: bad tree");
    const hung = { ...opts, timeoutMs: 50, strict: true, vanilla: () => new Promise<void>(() => {}) };
    expect(await checkReplica(r, hung)).toBe("check timed out after 50 ms (slow or hung storage?)");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
