import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { COMPILED, REPO, runCli } from "../helpers/cli.ts";

const tmp = mkdtempSync(join(tmpdir(), "damocles-cli-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("the compiled executable", () => {
  test("dist/damocles --help, run from another directory, lists the roles", async () => {
    expect(existsSync(COMPILED)).toBe(true); // built by ./scripts/setup
    const proc = Bun.spawn([COMPILED, "--help"], {
      cwd: tmpdir(),
      env: { ...process.env, NO_COLOR: "1" },
      stdout: "pipe",
    });
    const out = await new Response(proc.stdout).text();
    expect(await proc.exited).toBe(0);
    for (const role of ["manager", "poster", "worker", "util", "processor"]) expect(out).toContain(role);
    expect(out).toContain("EXAMPLES");
  });

  test("--version names the build", async () => {
    const r = await runCli(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^damocles \d+\.\d+\.\d+ \(bun 1\.4\.5/);
  });
});

describe("util config check", () => {
  // The doctor (on by default) checks the file against this machine; seed 003's example names PUs 4-47,
  // NUMA node 1 and ./mock-tmp stores this machine does not have. The schema verdict alone is --no-doctor.
  test("seed 003's first example: valid, three sealing threads", async () => {
    const r = await runCli([
      "util",
      "config",
      "check",
      "--no-doctor",
      join(REPO, "tests/fixtures/seeds/003-block-00.toml"),
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout.match(/^sealing thread #\d/gm)).toHaveLength(3);
    expect(r.stdout).toContain("pc1: 3 external processors");
  });

  test('max_retries = "three" fails naming sealing.max_retries and its line', async () => {
    const file = join(tmp, "worker.toml");
    writeFileSync(
      file,
      '[sector_manager]\nrpc_client.addr = "/ip4/127.0.0.1/tcp/1789"\n\n[sealing]\nallowed_sizes = ["2KiB"]\nmax_retries = "three"\n',
    );
    const r = await runCli(["util", "config", "check", file]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`${file}:6 sealing.max_retries: expected a non-negative integer, got "three"`);
  });

  test("unknown keys are warned about with a suggestion, and do not fail the check", async () => {
    const file = join(tmp, "typo.toml");
    writeFileSync(file, '[sector_manager]\nrpc_client.addr = "/ip4/127.0.0.1/tcp/1789"\n[sealing]\nmax_retrys = 3\n');
    const r = await runCli(["util", "config", "check", file]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("warning: ");
    expect(r.stderr).toContain('sealing.max_retrys: unknown key, ignored (did you mean "max_retries"?)');
  });

  test("--json prints the effective configuration as data", async () => {
    const r = await runCli([
      "util",
      "config",
      "check",
      "--json",
      "--no-doctor",
      join(REPO, "tests/fixtures/seeds/003-block-00.toml"),
    ]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.ok).toBe(true);
    expect(report.data.threads).toHaveLength(3);
  });

  test("a missing file is one clear error", async () => {
    const r = await runCli(["util", "config", "check", join(tmp, "nope.toml")]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("file not found");
  });
});

describe("manager init", () => {
  test("writes configs that check clean, and refuses to overwrite them", async () => {
    const home = join(tmp, "home");
    const init = await runCli(["manager", "init", "--home", home]);
    expect(init.code).toBe(0);
    for (const name of ["sector-manager.cfg", "ext-prover.cfg"]) {
      const r = await runCli(["util", "config", "check", join(home, name)]);
      expect(r.code).toBe(0);
      // The doctor may warn about this machine's open-file limit (the devnet miner proves WindowPoSt); nothing else.
      const findings = r.stderr.split("\n").filter((l) => l !== "" && !l.includes("the open-file limit is"));
      expect(findings).toEqual([]);
    }
    const check = await runCli(["util", "config", "check", join(home, "sector-manager.cfg")]);
    expect(check.stdout).toContain("actor 1000");
    expect(check.stdout).toContain("devnet miner 1000 sector size 2KiB");
    const again = await runCli(["manager", "init", "--home", home]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain("refusing to overwrite");
  });

  test("rejects a bad --sector-size naming the flag", async () => {
    const r = await runCli(["manager", "init", "--home", join(tmp, "h2"), "--sector-size", "3KiB"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('--sector-size: expected one of 2KiB, 8MiB, 512MiB, 32GiB, 64GiB, got "3KiB"');
  });
});

test("worker store sealing-init creates data/ and meta/ and is idempotent", async () => {
  const a = join(tmp, "s1");
  const b = join(tmp, "s2");
  const r = await runCli(["worker", "store", "sealing-init", "-l", a, "-l", b]);
  expect(r.code).toBe(0);
  for (const d of [a, b]) for (const sub of ["data", "meta", ".holder"]) expect(existsSync(join(d, sub))).toBe(true);
  const again = await runCli(["worker", "store", "sealing-init", "-l", a]);
  expect(again.stdout).toContain("already initialised");
});
