/**
 * Every configuration block of seeds 002 and 003 gets a pinned verdict: it loads (and means what the seed
 * says), or it fails with an error that says precisely why.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, parseConfigText, resolveWorkerConfig } from "../../src/core/config/index.ts";

const dir = join(import.meta.dir, "../fixtures/seeds");
const read = (name: string) => readFileSync(join(dir, name), "utf8");
const MANAGER_ADDR = '[sector_manager]\nrpc_client.addr = "/ip4/127.0.0.1/tcp/1789"\n';

/** Seed 003 shows sections on their own; a file needs the manager address, and bare keys belong in [sealing]. */
function asWorkerFile(text: string, context?: "sealing"): string {
  const body = context ? `[${context}]\n${text}` : text;
  return text.includes("[sector_manager]") ? body : `${MANAGER_ADDR}${body}`;
}

const load = parseConfigText;

function expectConfigError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error("expected the block to be rejected");
}

describe("seed 003 (worker configuration)", () => {
  test("block 00, the mock example: three sealing threads, pc1/pc2/c2/tree_d processors", async () => {
    const { value, warnings } = load("worker", read("003-block-00.toml"), "003-00");
    const cfg = resolveWorkerConfig(value);
    expect(warnings).toEqual([]);
    expect(cfg.threads.map((t) => t.location?.endsWith(`mock-tmp/store${t.index + 1}`))).toEqual([true, true, true]);
    expect(cfg.threads.every((t) => t.sealing.enable_deals && t.sealing.max_retries === 3)).toBe(true);
    expect(cfg.processors.stages.pc1?.map((p) => p.cgroup?.cpuset)).toEqual(["4-5", "6-7", "12-13"]);
    expect(cfg.processors.stages.pc1?.[0]?.envs).toEqual({ RUST_LOG: "info" });
    expect(Object.keys(cfg.processors.stages).sort()).toEqual(["c2", "pc1", "pc2", "tree_d"]);
    expect(cfg.attached).toHaveLength(1);
  });

  const sections = [
    "01",
    "02",
    "03",
    "04",
    "08",
    "09",
    "10",
    "12",
    "13",
    "14",
    "15",
    "16",
    "17",
    "18",
    "19",
    "20",
    "21",
    "22",
    "23",
    "24",
    "25",
  ];
  test.each(sections)("block %s loads as a section of a worker file", async (n) => {
    const { warnings } = load("worker", asWorkerFile(read(`003-block-${n}.toml`)), `003-${n}`);
    expect(warnings).toEqual([]);
  });

  test.each(["05", "06", "07"])("block %s loads as [sealing] keys", async (n) => {
    const { value } = load("worker", asWorkerFile(read(`003-block-${n}.toml`), "sealing"), `003-${n}`);
    expect(value.sealing).toBeDefined();
  });

  test("blocks 06/07 mean what the seed says", async () => {
    const six = load("worker", asWorkerFile(read("003-block-06.toml"), "sealing"), "06").value.sealing;
    expect([six.recover_interval, six.rpc_polling_interval]).toEqual([90_000, 300_000]);
    const seven = load("worker", asWorkerFile(read("003-block-07.toml"), "sealing"), "07").value.sealing;
    expect([seven.max_retries, seven.recover_interval]).toEqual([10, 60_000]);
  });

  test("block 11 is a thread's hot config.toml (everything commented)", async () => {
    const { value, warnings } = load("thread", read("003-block-11.toml"), "config.toml");
    expect(value).toEqual({});
    expect(warnings).toEqual([]);
  });

  test("blocks 09/10 give each thread its own miners and sizes", async () => {
    const nine = resolveWorkerConfig(load("worker", asWorkerFile(read("003-block-09.toml")), "09").value);
    expect(nine.threads.map((t) => t.sealing.allowed_miners)).toEqual([[1357], [2468]]);
    const ten = resolveWorkerConfig(load("worker", asWorkerFile(read("003-block-10.toml")), "10").value);
    expect(ten.threads.map((t) => t.sealing.allowed_sizes)).toEqual([[32 * 1024 ** 3], [64 * 1024 ** 3]]);
  });

  test("blocks 26/27 are a shell command and its output, not TOML", async () => {
    for (const n of ["26", "27"]) {
      const err = expectConfigError(() => load("worker", asWorkerFile(read(`003-block-${n}.txt`)), n));
      expect(err.diagnostics[0]?.message).toStartWith("invalid TOML");
    }
  });

  test("block 28, the minimal file, is rejected for its placeholder address and loads once filled in", async () => {
    const text = read("003-block-28.toml");
    const err = expectConfigError(() => load("worker", text, "minimal.toml"));
    expect(err.diagnostics).toHaveLength(1);
    expect(err.diagnostics[0]).toMatchObject({ path: "sector_manager.rpc_client.addr", line: 2 });
    expect(err.diagnostics[0]?.message).toContain('got "/ip4/{some_ip}/tcp/1789"');
    const filled = text.replace("{some_ip}", "10.0.0.2");
    const { value, warnings } = load("worker", filled, "minimal.toml");
    const cfg = resolveWorkerConfig(value);
    expect(cfg.threads).toHaveLength(8);
    // [remote_store] is the legacy single store: read as an attached store, with a warning to migrate.
    expect(cfg.attached.map((a) => a.name)).toEqual(["{remote store name}"]);
    expect(warnings.map((w) => w.path)).toContain("remote_store");
  });
});

describe("seed 002 (PoSter node)", () => {
  test("the WorkerProver settings load with their documented values", async () => {
    const { value } = load("manager", read("002-manager-worker-prover.cfg"), "sector-manager.cfg");
    expect(value.Common.Proving.WorkerProver).toEqual({
      JobMaxTry: 2,
      HeartbeatTimeout: 15_000,
      JobLifetime: 25 * 3600_000,
    });
  });

  test.each([
    ["002-worker-walkthrough.toml", 22],
    ["002-worker-two-jobs-one-gpu.toml", 27],
    ["002-worker-two-gpus.toml", 27],
  ])("%s is not valid TOML: its envs use a documentation '...' (line %d)", async (name, line) => {
    const text = read(name);
    const err = expectConfigError(() => load("worker", text, name));
    expect(err.diagnostics[0]).toMatchObject({ line });
    expect(err.diagnostics[0]?.message).toContain('"..." is a placeholder');
  });

  test("the simple wdpost worker is rejected only for its placeholder manager address", async () => {
    const text = read("002-worker-simple.toml");
    const err = expectConfigError(() => load("worker", text, "simple.toml"));
    expect(err.diagnostics.map((d) => d.path)).toEqual(["sector_manager.rpc_client.addr"]);
    const fixed = text.replace("your-damocles-manager-address-here", "10.0.0.2");
    const cfg = resolveWorkerConfig(load("worker", fixed, "simple.toml").value);
    expect(cfg.threads).toEqual([expect.objectContaining({ plan: "wdpost", location: undefined })]);
    expect(cfg.threads[0]?.sealing.recover_interval).toBe(15_000);
  });

  test("[[processors. window_post]] with a space after the dot is valid TOML for processors.window_post", async () => {
    const text = read("002-worker-two-gpus.toml")
      .replace("envs = { ... }", "")
      .replace("your-damocles-manager-address-here", "10.0.0.2");
    const cfg = resolveWorkerConfig(load("worker", text, "two-gpus.toml").value);
    expect(cfg.processors.stages.window_post?.[0]?.concurrent).toBe(2);
  });

  test("the default ext-prover.cfg is all comments and loads empty", async () => {
    const { value } = load("ext-prover", read("002-ext-prover-default.cfg"), "ext-prover.cfg");
    expect(value).toEqual({ WdPost: [], WinPost: [] });
  });

  test("the deployment ext-prover.cfg as printed (one line) is not valid TOML, and says why", async () => {
    const err = expectConfigError(() => load("ext-prover", read("002-ext-prover-deployment.cfg"), "ext-prover.cfg"));
    expect(err.diagnostics[0]?.line).toBe(1);
    expect(err.diagnostics[0]?.message).toContain("must be alone on its line");
  });

  test("the same ext-prover.cfg, one key per line: eight WdPost children, one GPU each", async () => {
    const { value } = load("ext-prover", read("002-ext-prover-deployment-fixed.cfg"), "ext-prover.cfg");
    expect(value.WdPost.map((e) => e.Envs.CUDA_VISIBLE_DEVICES)).toEqual(["0", "1", "2", "3", "4", "5", "6", "7"]);
    expect(value.WdPost.every((e) => e.Concurrent === 1 && e.Weight === 1 && e.ReadyTimeoutSecs === 5)).toBe(true);
  });
});
