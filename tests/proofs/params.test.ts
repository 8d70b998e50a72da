import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DEFAULT_PARAMS_SEED,
  defaultParamsDir,
  expectedParams,
  generateParams,
  inspectParams,
} from "../../src/core/proofs/index.ts";

// Real proofs: the shared fixture seals with two C2 SNARKs on first use (minutes on a 2-core machine).
setDefaultTimeout(20 * 60_000);

const ROOT = join(import.meta.dir, "../..");
const made: string[] = [];
const tmp = (p: string) => {
  const d = mkdtempSync(join(tmpdir(), `damocles-params-${p}-`));
  made.push(d);
  return d;
};
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

async function runCli(args: string[], env: Record<string, string> = {}) {
  const entry = join(tmp("entry"), "params-cli.ts");
  await Bun.write(
    entry,
    `import { runCli } from "${ROOT}/src/core/cli/run.ts";\nimport { paramsCommand } from "${ROOT}/src/util/params.ts";\nawait runCli(paramsCommand);\n`,
  );
  const proc = Bun.spawn([process.execPath, entry, ...args], {
    env: { ...process.env, ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { stdout, stderr, exitCode };
}

describe("parameter files", () => {
  test("expected file names are the standard v28 names of the library's circuits", async () => {
    const c = await expectedParams(2048);
    expect(c.map((x) => x.circuit)).toEqual(["porep", "winning-post", "window-post", "empty-sector-update"]);
    const ids = c.map((x) => x.cacheId);
    expect(ids[0]).toStartWith("stacked-proof-of-replication-merkletree-poseidon_hasher-8-0-0-sha256_hasher-032d3138");
    expect(ids[1]).toStartWith("proof-of-spacetime-fallback-merkletree-poseidon_hasher-8-0-0-3ea05428");
    expect(ids[2]).toStartWith("proof-of-spacetime-fallback-merkletree-poseidon_hasher-8-0-0-0170db1f");
    expect(ids[3]).toStartWith("empty-sector-update-merkletree-poseidon_hasher-8-0-0-fb9e095b");
    expect(c[0]!.files.params).toBe(`v28-${ids[0]}.params`);
    expect(c[0]!.files.vk).toBe(`v28-${ids[0]}.vk`);
  });

  test("check reports missing / empty / truncated / corrupt / present", async () => {
    const real = await inspectParams(2048, { circuits: ["window-post"] });
    expect(real.usable).toBe(true);
    const [params, vk] = real.circuits[0]!.files;
    const dir = tmp("check");

    const missing = await inspectParams(2048, { dir, circuits: ["window-post"] });
    expect(missing.usable).toBe(false);
    expect(missing.circuits[0]!.files.map((f) => f.status)).toEqual(["missing", "missing", "missing"]);
    expect(missing.fix).toBe(`damocles util params generate --sector-size 2KiB --dir ${dir}`);

    writeFileSync(join(dir, params!.name), "");
    copyFileSync(vk!.path, join(dir, vk!.name));
    let r = await inspectParams(2048, { dir, circuits: ["window-post"] });
    expect(r.circuits[0]!.files.map((f) => f.status)).toEqual(["empty", "present", "missing"]);
    expect(r.usable).toBe(false);

    const full = readFileSync(params!.path);
    writeFileSync(join(dir, params!.name), full.subarray(0, Math.floor(full.length / 2)));
    r = await inspectParams(2048, { dir, circuits: ["window-post"] });
    expect(r.circuits[0]!.files[0]!.status).toBe("truncated");
    writeFileSync(join(dir, params!.name), full.subarray(0, 500)); // ends inside the headers
    r = await inspectParams(2048, { dir, circuits: ["window-post"] });
    expect(r.circuits[0]!.files[0]!.status).toBe("truncated");

    copyFileSync(params!.path, join(dir, params!.name));
    const vkBytes = readFileSync(vk!.path);
    writeFileSync(join(dir, vk!.name), vkBytes.subarray(0, vkBytes.length - 10));
    r = await inspectParams(2048, { dir, circuits: ["window-post"] });
    expect(r.circuits[0]!.files.map((f) => f.status)).toEqual(["present", "truncated", "missing"]);

    const garbage = new Uint8Array(vkBytes.length).fill(7);
    garbage.set(vkBytes.subarray(864, 868), 864); // keep the ic length header: only the points are bad
    writeFileSync(join(dir, vk!.name), garbage);
    r = await inspectParams(2048, { dir, circuits: ["window-post"] });
    expect(r.circuits[0]!.files[1]!.status).toBe("corrupt");

    copyFileSync(vk!.path, join(dir, vk!.name));
    r = await inspectParams(2048, { dir, circuits: ["window-post"] });
    expect(r.usable).toBe(true); // .meta is optional
  });

  test("generation is deterministic in the seed", async () => {
    const dir = tmp("gen");
    const events: string[] = [];
    const s = await generateParams(2048, { dir, circuits: ["window-post"], onProgress: (e) => events.push(e.type) });
    expect(s.generated.map((g) => g.circuit)).toEqual(["window-post"]);
    expect(events.filter((e) => e !== "tick")).toEqual(["start", "done"]);
    const mine = await inspectParams(2048, { dir, circuits: ["window-post"], verifyHashes: true });
    expect(mine.usable).toBe(true);
    expect(mine.circuits[0]!.hasManifest).toBe(true);
    // Same default seed as ./scripts/setup used for the default directory → byte-identical files.
    const shared = await inspectParams(2048, { dir: defaultParamsDir(), circuits: ["window-post"] });
    if (shared.circuits[0]!.seedFingerprint === mine.circuits[0]!.seedFingerprint) {
      for (const i of [0, 1]) {
        const a = readFileSync(mine.circuits[0]!.files[i]!.path);
        const b = readFileSync(shared.circuits[0]!.files[i]!.path);
        expect(Buffer.compare(a, b)).toBe(0);
      }
    }
    // Idempotent: a second run skips.
    const again = await generateParams(2048, { dir, circuits: ["window-post"] });
    expect(again.skipped).toEqual(["window-post"]);
    // Another seed, another setup.
    const other = tmp("gen-other");
    await generateParams(2048, { dir: other, circuits: ["window-post"], seed: `${DEFAULT_PARAMS_SEED}-other` });
    const vkA = readFileSync(mine.circuits[0]!.files[1]!.path);
    const vkB = readFileSync(join(other, mine.circuits[0]!.files[1]!.name));
    expect(Buffer.compare(vkA, vkB)).not.toBe(0);
  });

  test("`params check` lists each file and exits non-zero naming the fix", async () => {
    const dir = tmp("cli");
    const r = await runCli(["check", "--sector-size", "2KiB", "--dir", dir]);
    expect(r.exitCode).not.toBe(0);
    expect(r.stdout).toContain("missing");
    expect(r.stdout).toContain("v28-stacked-proof-of-replication");
    expect(r.stderr).toContain(`Fix: damocles util params generate --sector-size 2KiB --dir ${dir}`);
    const ok = await runCli(["check", "--sector-size", "2KiB"]);
    expect(ok.exitCode).toBe(0);
    expect(ok.stdout).toContain("present");
  });

  test("proving with missing or empty parameters fails up front with the fix, not deep in the library", async () => {
    const dir = tmp("guard");
    const real = await inspectParams(2048, { circuits: ["porep"] });
    const [params, vk] = real.circuits[0]!.files;
    copyFileSync(vk!.path, join(dir, vk!.name));
    writeFileSync(join(dir, params!.name), ""); // what an interrupted download leaves: "memory map must have a non-zero length"
    const code = `
      import { verifySeal } from "${ROOT}/src/core/proofs/index.ts";
      const z = new Uint8Array(32).fill(1);
      try { await verifySeal({ registeredProof: 5, commR: z, commD: z, proverId: 1000, sectorId: 1, ticket: z, seed: z, proof: new Uint8Array(192) }); console.log("no error"); }
      catch (e) { console.log(e.name + ": " + e.message); }`;
    const proc = Bun.spawn([process.execPath, "-e", code], {
      env: { ...process.env, FIL_PROOFS_PARAMETER_CACHE: dir },
      stdout: "pipe",
      stderr: "pipe",
    });
    const out = await new Response(proc.stdout).text();
    expect(await proc.exited).toBe(0);
    expect(out).toContain("ParamsNotReadyError");
    expect(out).toContain(`${params!.name} is empty`);
    expect(out).toContain(`Fix: damocles util params generate --sector-size 2KiB --dir ${dir}`);
  });
});
