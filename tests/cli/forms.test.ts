import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../helpers/cli.ts";

/**
 * The command forms of the seeds (issue 15): options before the subcommand, `daemon init|run`, `_`/`-`
 * spellings, and no option dropped silently.
 */
const tmp = mkdtempSync(join(tmpdir(), "damocles-forms-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// HOME points into the temporary directory: a form that lost --home would initialise $HOME/.damocles-manager.
const home = join(tmp, "user");
mkdirSync(home);
const env = { HOME: home, DAMOCLES_PATH: "", VENUS_SECTOR_MANAGER_PATH: "", VSM_PATH: "" };
const defaultHome = join(home, ".damocles-manager");

describe("manager options before the subcommand", () => {
  test("damocles manager --home=X init initialises X", async () => {
    const x = join(tmp, "m1");
    const r = await runCli(["manager", `--home=${x}`, "init"], { env });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(existsSync(join(x, "sector-manager.cfg"))).toBe(true);
    expect(existsSync(defaultHome)).toBe(false);
  });

  test("damocles manager --home X daemon init (seed 002's damocles-manager --home X daemon init)", async () => {
    const x = join(tmp, "m2");
    const r = await runCli(["manager", "--home", x, "daemon", "init"], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`initialised ${x}`);
    expect(existsSync(join(x, "ext-prover.cfg"))).toBe(true);
    expect(existsSync(defaultHome)).toBe(false);
  });

  test("damocles manager daemon --help lists init and run", async () => {
    const r = await runCli(["manager", "daemon", "--help"], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("init");
    expect(r.stdout).toContain("run");
  });
});

describe("worker management forms", () => {
  const config = join(tmp, "worker.toml");
  writeFileSync(
    config,
    `[worker]
name = "forms"
rpc_server.host = "127.0.0.1"
rpc_server.port = 1
[sector_manager]
rpc_client.addr = "http://127.0.0.1:2"
[[sealing_thread]]
location = "${join(tmp, "store")}"
`,
  );

  for (const form of [
    ["worker", "-c", config, "list"],
    ["worker", `--config=${config}`, "list"],
    ["worker", "list", "-c", config],
  ]) {
    test(`damocles ${form.join(" ").replace(config, "FILE")} asks the worker FILE names`, async () => {
      const r = await runCli(form, { env });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("worker at 127.0.0.1:1: cannot reach");
      expect(r.stderr).not.toContain("option");
    });
  }

  test("seed 000's enable_dump --child_pid=P --dump_dir=D, with --config before it", async () => {
    const r = await runCli(["worker", `--config=${config}`, "enable_dump", "--child_pid=24764", `--dump_dir=${tmp}`], {
      env,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("worker at 127.0.0.1:1: cannot reach");
  });

  test("enable-dump --child-pid P --dump-dir D: the other spelling", async () => {
    const r = await runCli(["worker", "enable-dump", "--child-pid", "24764", "--dump-dir", tmp, "-c", config], {
      env,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("worker at 127.0.0.1:1: cannot reach");
  });

  test("a pid that is not a number is still refused by name", async () => {
    const r = await runCli(["worker", "disable_dump", "--child_pid=P", "-c", config], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--child_pid: expected a process id, got "P"`);
  });
});

describe("no option is dropped silently", () => {
  test("an unknown option after the subcommand is an error naming it", async () => {
    const r = await runCli(["worker", "list", "--bogus"], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown option --bogus for 'damocles worker list'");
  });

  test("an unknown option before the subcommand is an error naming it, and nothing is initialised", async () => {
    const x = join(tmp, "m3");
    const r = await runCli(["manager", "--homee", x, "init"], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown option --homee for 'damocles manager init'");
    expect(existsSync(x)).toBe(false);
    expect(existsSync(defaultHome)).toBe(false);
  });
});
