import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  addonInfo,
  configureProofs,
  ensureProofsConfigured,
  generateWindowPost,
  proverIdFromActorId,
  verifySeal,
} from "../../src/core/proofs/index.ts";
import { native } from "../../src/core/proofs/native.ts";
import {
  POST_PROOFS,
  SEAL_PROOFS,
  UPDATE_PROOFS,
  windowPoStPartitionSectors,
  windowPoStProofFor,
} from "../../src/core/sector/proof.ts";
import { sealed2KiB } from "../fixtures/sealed-2kib.ts";

// Real proofs: the shared fixture seals with two C2 SNARKs on first use (minutes on a 2-core machine).
setDefaultTimeout(20 * 60_000);

const ROOT = join(import.meta.dir, "../..");

describe("proofs addon behaviour", () => {
  test("a Rust panic rejects the promise instead of killing the process", async () => {
    ensureProofsConfigured();
    await expect(native().debugPanic("boom")).rejects.toThrow("Rust panic: debug_panic: boom");
    expect(addonInfo().version).toBe("0.1.0");
  });

  test("bad arguments reject with a message naming the argument", async () => {
    const z = new Uint8Array(32).fill(1);
    await expect(native().verifySeal(5, new Uint8Array(31), z, z, 1, z, z, new Uint8Array(192))).rejects.toThrow(
      "comm_r must be 32 bytes, got 31",
    );
    await expect(native().verifySeal(42, z, z, z, 1, z, z, new Uint8Array(192))).rejects.toThrow(
      "unknown registered seal proof 42",
    );
    await expect(native().verifySeal(5, z, z, z, -1, z, z, new Uint8Array(192))).rejects.toThrow(
      "sector id must not be negative",
    );
    await expect(
      verifySeal({
        registeredProof: 5,
        commR: new Uint8Array(3),
        commD: z,
        proverId: 1,
        sectorId: 1,
        ticket: z,
        seed: z,
        proof: z,
      }),
    ).rejects.toThrow("commR must be 32 bytes");
    // A library error carries the library's message.
    await expect(native().computeCommD(5, [{ commitment: z, size: 100 }])).rejects.toThrow(/compute_comm_d: /);
  });

  test("the proof-type table agrees with the addon's registry, id by id", async () => {
    ensureProofsConfigured();
    const lib = native();
    for (const p of SEAL_PROOFS) {
      const d = await lib.sealProofInfo(p.id);
      expect([p.name, d.sectorSize]).toEqual([p.name, p.sectorSize]);
      // The library's API version of each family: V1 1.0.0, V1_1 1.1.0, the feature variants 1.2.0.
      expect([p.name, d.apiVersion]).toEqual([
        p.name,
        p.variant === "V1" ? "1.0.0" : p.variant === "V1_1" ? "1.1.0" : "1.2.0",
      ]);
    }
    for (const p of POST_PROOFS) {
      const d = await lib.postProofInfo(p.id);
      expect([p.name, d.sectorSize, d.kind]).toEqual([p.name, p.sectorSize, p.kind]);
      // Go's Window…V1_1 is rust's …V1_2 (API 1.2.0); every other name is the same in both (1.0.0).
      expect([p.rustName, d.apiVersion]).toEqual([p.rustName, p.rustName.endsWith("V1_2") ? "1.2.0" : "1.0.0"]);
      if (p.kind === "window") {
        const sealProof = SEAL_PROOFS.find((s) => s.sectorSize === p.sectorSize)!.id;
        expect([p.name, d.sectorCount]).toEqual([p.name, windowPoStPartitionSectors(sealProof)]);
      }
    }
    for (const p of UPDATE_PROOFS) {
      expect([p.name, (await lib.updateProofInfo(p.id)).sectorSize]).toEqual([p.name, p.sectorSize]);
    }
    await expect(lib.sealProofInfo(SEAL_PROOFS.length)).rejects.toThrow(
      "unknown registered seal proof 20 (expected 0..19)",
    );
    await expect(lib.postProofInfo(POST_PROOFS.length)).rejects.toThrow(
      "unknown registered PoSt proof 15 (expected 0..14)",
    );
    await expect(lib.updateProofInfo(UPDATE_PROOFS.length)).rejects.toThrow(
      "unknown registered update proof 5 (expected 0..4)",
    );
  });

  test("settings are fixed once proofs ran in the process", () => {
    const current = ensureProofsConfigured();
    expect(configureProofs({ parameterCache: current.parameterCache }).parameterCache).toBe(current.parameterCache);
    expect(() => configureProofs({ parameterCache: mkdtempSync(join(tmpdir(), "damocles-other-params-")) })).toThrow(
      /cannot/,
    );
  });

  test("prover id from an actor id is the ID address payload (LEB128), zero-padded", () => {
    expect([...proverIdFromActorId(1000).subarray(0, 3)]).toEqual([0xe8, 0x07, 0]);
    expect([...proverIdFromActorId(5).subarray(0, 2)]).toEqual([5, 0]);
  });

  test("a proof call does not block the event loop", async () => {
    const f = await sealed2KiB();
    const postProof = windowPoStProofFor(f.registeredProof);
    const replicas = [f.cc, f.data].map((s) => ({
      sectorId: s.sectorId,
      commR: s.commR,
      cacheDir: s.cacheDir,
      sealedPath: s.sealedPath,
    }));
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    const t0 = performance.now();
    const r = await generateWindowPost({ postProof, randomness: f.seed, proverId: f.proverId, replicas });
    const ms = performance.now() - t0;
    clearInterval(timer);
    expect(r.proofs.length).toBe(1);
    // A blocked loop would give 0-1 ticks; allow generous scheduling slack on a loaded 2-core machine.
    expect(ticks).toBeGreaterThan(Math.min(20, (ms / 10) * 0.3));
  });

  test("bun build --compile embeds the addon; the executable works from another directory", async () => {
    const work = mkdtempSync(join(tmpdir(), "damocles-compile-"));
    const entry = join(work, "entry.ts");
    await Bun.write(
      entry,
      `import { expectedParams, addonInfo } from "${ROOT}/src/core/proofs/index.ts";\n` +
        `const c = await expectedParams(2048);\nconsole.log(JSON.stringify({ version: addonInfo().version, circuits: c.length }));\n`,
    );
    const exe = join(work, "probe");
    const build = Bun.spawnSync([process.execPath, "build", "--compile", "--outfile", exe, entry], {
      cwd: ROOT,
      stderr: "pipe",
      stdout: "pipe",
    });
    expect(build.exitCode, build.stderr.toString()).toBe(0);
    const elsewhere = mkdtempSync(join(tmpdir(), "damocles-elsewhere-"));
    const run = Bun.spawnSync([exe], {
      cwd: elsewhere,
      env: { PATH: "/usr/bin:/bin", HOME: elsewhere },
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(run.exitCode, run.stderr.toString()).toBe(0);
    expect(JSON.parse(run.stdout.toString())).toEqual({ version: "0.1.0", circuits: 4 });
    rmSync(work, { recursive: true, force: true });
    rmSync(elsewhere, { recursive: true, force: true });
  }, 120_000);
});
