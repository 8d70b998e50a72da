/** `damocles util config check [--sysfs DIR] FILE` with the doctor: findings, exit status, flags. */
import { afterAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { TWO_SOCKET_64 } from "../fixtures/sysfs/generate.ts";
import { runCli } from "../helpers/cli.ts";
import { MANAGER, sysfsFixtures, TWO_GPUS } from "./helpers.ts";

const fx = sysfsFixtures();
afterAll(fx.cleanup);
const file = (name: string, text: string) => {
  const p = join(fx.root, name);
  writeFileSync(p, text);
  return p;
};
const check = (...args: string[]) => runCli(["util", "config", "check", ...args]);

const ZERO_SIX = `${MANAGER}[[processors.pc1]]\nnuma_preferred = 0\ncgroup.cpuset = "0-6"\nenvs = { FIL_PROOFS_USE_MULTICORE_SDR = "1" }\n`;

describe("util config check runs the doctor", () => {
  test('seed 003\'s "0-6" under multicore SDR: non-zero exit, naming the file:line, L3 and the cpuset', async () => {
    const f = file("zero-six.toml", ZERO_SIX);
    const r = await check("--sysfs", fx.path("two-socket-64"), f);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      `${f}:5 processors.pc1[0].cgroup.cpuset: FIL_PROOFS_USE_MULTICORE_SDR is on and cgroup.cpuset "0-6" gives 7 cores in 2 L3 groups`,
    );
    expect(r.stderr).toContain("L3 #0: 4 of 4 cores, PUs 0-3; L3 #1: 3 of 4 cores, PUs 4-6");
    expect(r.stderr).toContain('Fix: cgroup.cpuset = "0-7" (whole L3 #0, #1, in NUMA node 0)');
    expect(r.stderr).toContain("1 error; the file was not accepted");
  });

  test("--no-doctor checks the schema only", async () => {
    const r = await check("--no-doctor", "--sysfs", fx.path("two-socket-64"), file("zero-six-2.toml", ZERO_SIX));
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
  });

  test("seed 000's two-GPU config names CUDA_VISIBLE_DEVICES and gpu2", async () => {
    // As printed, `bin = /usr/local/bin/gpuproxy` is not TOML; quoted here, with [sector_manager] added so it loads.
    const dump = fx.path("gpus-64", { ...TWO_SOCKET_64, gpus: TWO_GPUS });
    const f = file(
      "seed-000.toml",
      `${MANAGER}[processors.ext_locks]\ngpu1 = 1\ngpu2 = 2\n\n[[processors.pc2]]\ncgroup.cpuset =  "2,5,8,11,14,17,20,23"\nlocks = ["gpu1"]\nenvs = { CUDA_VISIBLE_DEVICES = "0" }\n\n[[processors.pc2]]\ncgroup.cpuset =  "50,53,56,59,62,65,68,71"\nlocks = ["gpu2"]\nenvs = { CUDA_VISIBLE_DEVICES = "0" }\n\n[[processors.c2]]\nbin = "/usr/local/bin/gpuproxy"\nargs = ["args1", "args2", "args3"]\n`,
    );
    const r = await check("--sysfs", dump, f);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`warning: ${f}:15 processors.pc2[1].envs.CUDA_VISIBLE_DEVICES:`);
    expect(r.stderr).toContain("locks (gpu1, gpu2) differ");
    expect(r.stderr).toContain(`warning: ${f}:5 processors.ext_locks.gpu2: gpu2 = 2 lets 2 holders in at once`);
    expect(r.stderr).toContain("processors.c2[0].bin"); // gpuproxy is not installed here
  });

  test("warnings only: exit 0, findings on stderr, the effective configuration on stdout", async () => {
    const f = file("warn.toml", `${MANAGER}[processors.ext_locks]\ngpu3 = 1\n`);
    const r = await check("--sysfs", fx.path("two-socket-64"), f);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      `warning: ${f}:4 processors.ext_locks.gpu3: ext_locks.gpu3 = 1 is defined but no processor lists it in locks`,
    );
    expect(r.stdout).toContain("valid worker configuration");
  });

  test("--json carries the doctor's findings and ok = false", async () => {
    const r = await check("--json", "--sysfs", fx.path("two-socket-64"), file("zero-six-3.toml", ZERO_SIX));
    expect(r.code).not.toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.ok).toBe(false);
    expect(report.diagnostics.map((d: { path: string }) => d.path)).toEqual(["processors.pc1[0].cgroup.cpuset"]);
  });

  test('"[[processors.windowpost]]": the loader\'s did-you-mean is printed once, the doctor adds nothing', async () => {
    const r = await check(
      "--sysfs",
      fx.path("two-socket-64"),
      file("typo.toml", `${MANAGER}[[processors.windowpost]]\nconcurrent = 1\n`),
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('unknown stage "windowpost" — did you mean "window_post"?');
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
  });

  test('"[[processors. window_post]]" (seed 002\'s spelling) loads as window_post', async () => {
    const r = await check(
      "--sysfs",
      fx.path("two-socket-64"),
      file("spaced.toml", `${MANAGER}[[processors. window_post]]\nconcurrent = 2\n`),
    );
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain("unknown");
    expect(r.stdout).toContain("window_post");
  });

  test("manager files get only the open-files rule (tests/doctor/service-files.test.ts), no hardware rule", async () => {
    const r = await check(
      "--sysfs",
      fx.path("two-socket-64"),
      file("sector-manager.cfg", '[Common]\n[Common.API]\nChain = "/ip4/127.0.0.1/tcp/1234"\n'),
    );
    expect(r.stderr).not.toContain("cpuset");
  });
});
