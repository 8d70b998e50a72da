import { afterAll, describe, expect, test } from "bun:test";
import type { FixtureSpec } from "../fixtures/sysfs/generate.ts";
import { at, diagnose, errors, fakeFs, MANAGER, ONE_GPU, sysfsFixtures, TWO_GPUS, warnings } from "./helpers.ts";

const fx = sysfsFixtures();
afterAll(fx.cleanup);

/** A 2 × 48-PU machine, big enough for seed 000's cpusets (up to PU 71). */
const NINETY_SIX: FixtureSpec = {
  packages: [0, 1].map(() => ({
    nodes: [{ memKiB: 256 * 1024 * 1024, l3: Array.from({ length: 12 }, () => ({ sizeKiB: 16384, cores: 4 })) }],
  })),
  gpus: TWO_GPUS,
};

/**
 * Seed 000's two-GPU configuration. As printed, `bin = /usr/local/bin/gpuproxy` is not TOML (the loader says
 * so); here the value is quoted, and [sector_manager] is added so the file loads.
 */
const SEED_000 = `${MANAGER}
[processors.ext_locks]
gpu1 = 1
gpu2 = 2


[[processors.pc2]]
cgroup.cpuset =  "2,5,8,11,14,17,20,23"
locks = ["gpu1"]
envs = { CUDA_VISIBLE_DEVICES = "0" }

[[processors.pc2]]
cgroup.cpuset =  "50,53,56,59,62,65,68,71"
locks = ["gpu2"]
envs = { CUDA_VISIBLE_DEVICES = "0" }

[[processors.c2]]
bin = "/usr/local/bin/gpuproxy"
args = ["args1", "args2", "args3"]
`;

/** The seed's corrected version. */
const SEED_000_FIXED = `${MANAGER}
[[processors.pc2]]
cgroup.cpuset =  "2,5,8,11,14,17,20,23"
envs = { CUDA_VISIBLE_DEVICES = "0" }

[[processors.pc2]]
cgroup.cpuset =  "50,53,56,59,62,65,68,71"
envs = { CUDA_VISIBLE_DEVICES = "1" }

[[processors.c2]]
bin = "/usr/local/bin/gpuproxy"
args = ["args1", "args2", "args3"]
`;

const proxyInstalled = { fs: fakeFs({ "/usr/local/bin/gpuproxy": "exec" }) };

describe("seed 000: the idle second GPU", () => {
  test("flags CUDA_VISIBLE_DEVICES on the second pc2 and gpu2 = 2, warnings only once gpuproxy exists", () => {
    const ds = diagnose(SEED_000, { sysfs: fx.path("ninety-six", NINETY_SIX), gpus: TWO_GPUS, facts: proxyInstalled });
    expect(errors(ds)).toEqual([]);
    const cuda = at(ds, "processors.pc2[1].envs.CUDA_VISIBLE_DEVICES");
    expect(cuda).toHaveLength(1);
    expect(cuda[0]!.line).toBe(17);
    expect(cuda[0]!.message).toContain('sets CUDA_VISIBLE_DEVICES = "0" like processors.pc2[0]');
    expect(cuda[0]!.message).toContain("locks (gpu1, gpu2) differ");
    expect(cuda[0]!.message).toContain('"one GPU stays idle all the time"');
    expect(cuda[0]!.message).toContain('Fix: CUDA_VISIBLE_DEVICES = "1" for processors.pc2[1]');

    const gpu2 = at(ds, "processors.ext_locks.gpu2");
    expect(gpu2).toHaveLength(1);
    expect(gpu2[0]!.line).toBe(6);
    expect(gpu2[0]!.message).toContain("gpu2 = 2 lets 2 holders in at once");
    expect(gpu2[0]!.message).toContain("not a GPU number");
    expect(gpu2[0]!.message).toContain("Fix: gpu2 = 1");

    const gpu1 = at(ds, "processors.ext_locks.gpu1");
    expect(gpu1[0]!.message).toContain("used only by processors.pc2[0]");
    expect(gpu1[0]!.message).toContain("processors.c2[0] runs on a remote proxy");
    expect(ds).toHaveLength(3);
  });

  test("the same file on seed 003's 64-PU machine with gpuproxy missing: errors for PUs 65-71 and the bin", () => {
    const ds = diagnose(SEED_000, { sysfs: fx.path("two-socket-64") });
    expect(errors(ds).map((d) => d.path)).toEqual(["processors.pc2[1].cgroup.cpuset", "processors.c2[0].bin"]);
    expect(at(ds, "processors.c2[0].bin")[0]!.message).toContain('bin "/usr/local/bin/gpuproxy" does not exist');
    expect(at(ds, "processors.pc2[1].envs.CUDA_VISIBLE_DEVICES")).toHaveLength(1); // GPUs unknown: the differing locks say it
  });

  test("the seed's corrected configuration is clean", () => {
    expect(
      diagnose(SEED_000_FIXED, { sysfs: fx.path("ninety-six", NINETY_SIX), gpus: TWO_GPUS, facts: proxyInstalled }),
    ).toEqual([]);
  });
});

describe("rule 3: GPUs", () => {
  const twoWdpost = (cuda: [string, string]) => `${MANAGER}
[[processors.window_post]]
cgroup.cpuset = "10-19"
envs = { CUDA_VISIBLE_DEVICES = "${cuda[0]}", TMPDIR = "/tmp/worker-prover1/" }
concurrent = 1
[[processors.window_post]]
cgroup.cpuset = "20-29"
envs = { CUDA_VISIBLE_DEVICES = "${cuda[1]}", TMPDIR = "/tmp/worker-prover1/" }
concurrent = 1
`;

  test("seed 002's two WindowPoSt jobs on one GPU: fine on a one-GPU machine, flagged when a second GPU idles", () => {
    const sysfs = fx.path("two-socket-64");
    expect(diagnose(twoWdpost(["0", "0"]), { sysfs, gpus: ONE_GPU })).toEqual([]);
    expect(diagnose(twoWdpost(["0", "0"]), { sysfs })).toEqual([]); // GPUs unknown and nothing else differs
    const ds = diagnose(twoWdpost(["0", "0"]), { sysfs, gpus: TWO_GPUS });
    expect(ds.map((d) => [d.severity, d.path])).toEqual([
      ["warning", "processors.window_post[1].envs.CUDA_VISIBLE_DEVICES"],
    ]);
    expect(ds[0]!.message).toContain("has GPU #1 that no processor uses");
    expect(diagnose(twoWdpost(["0", "1"]), { sysfs, gpus: TWO_GPUS })).toEqual([]);
  });

  test("a GPU index nvidia-smi does not list", () => {
    const ds = diagnose(`${MANAGER}[[processors.c2]]\nenvs = { CUDA_VISIBLE_DEVICES = "2,3" }\n`, { gpus: TWO_GPUS });
    expect(ds.map((d) => d.path)).toEqual(["processors.c2[0].envs.CUDA_VISIBLE_DEVICES"]);
    expect(ds[0]!.message).toContain("names GPU 2, 3, but nvidia-smi on this machine lists GPUs 0, 1");
  });

  test("pc2 and c2 on one GPU with no shared lock: warning suggesting one", () => {
    const text = `${MANAGER}[[processors.pc2]]\nenvs = { CUDA_VISIBLE_DEVICES = "0" }\n[[processors.c2]]\nenvs = { CUDA_VISIBLE_DEVICES = "0" }\n`;
    const ds = diagnose(text);
    expect(ds.map((d) => d.path)).toEqual(["processors.c2[0].envs.CUDA_VISIBLE_DEVICES"]);
    expect(ds[0]!.message).toContain('"CUDA out of memory"');
    expect(ds[0]!.message).toContain('[processors.ext_locks] gpu0 = 1, and locks = ["gpu0"] on both processors');
    const locked = `${MANAGER}[processors.ext_locks]\ngpu = 1\n[[processors.pc2]]\nlocks = ["gpu"]\nenvs = { CUDA_VISIBLE_DEVICES = "0" }\n[[processors.c2]]\nlocks = ["gpu"]\nenvs = { CUDA_VISIBLE_DEVICES = "0" }\n`;
    expect(diagnose(locked)).toEqual([]);
  });

  test("seed 003's one-GPU and two-GPU ext_locks examples are clean", () => {
    const one = `${MANAGER}[processors.ext_locks]\ngpu = 1\n[[processors.pc2]]\nlocks = ["gpu"]\n[[processors.c2]]\nlocks = ["gpu"]\n`;
    expect(diagnose(one)).toEqual([]);
    const two = `${MANAGER}[processors.ext_locks]\ngpu1 = 1\ngpu2 = 1\n[[processors.pc2]]\nlocks = ["gpu1"]\n[[processors.pc2]]\nlocks = ["gpu2"]\n[[processors.c2]]\nlocks = ["gpu1"]\n[[processors.c2]]\nlocks = ["gpu2"]\n`;
    expect(diagnose(two)).toEqual([]);
  });
});

describe("rule 3: ext_locks", () => {
  test("a lock used but not defined is an error with a did-you-mean", () => {
    const ds = diagnose(
      `${MANAGER}[processors.ext_locks]\ngpu1 = 1\n[[processors.pc2]]\nlocks = ["gpu_1"]\n[[processors.c2]]\nlocks = ["gpu1"]\n`,
    );
    const e = errors(ds);
    expect(e.map((d) => [d.path, d.line])).toEqual([["processors.pc2[0].locks", 6]]);
    expect(e[0]!.message).toContain(
      'locks names "gpu_1", which [processors.ext_locks] does not define: the worker refuses to start',
    );
    expect(e[0]!.message).toContain('did you mean "gpu1"?');
  });

  test("a lock defined but never used is a warning", () => {
    const ds = diagnose(`${MANAGER}[processors.ext_locks]\ngpu3 = 1\n`);
    expect(ds.map((d) => [d.severity, d.path, d.line])).toEqual([["warning", "processors.ext_locks.gpu3", 4]]);
    expect(ds[0]!.message).toContain("no processor lists it in locks");
  });

  test("a count above 1 is fine as a semaphore over more users, flagged when it can never block", () => {
    const three = `${MANAGER}[processors.ext_locks]\nio = 2\n[[processors.pc1]]\nlocks = ["io"]\n[[processors.tree_d]]\nlocks = ["io"]\n[[processors.add_pieces]]\nlocks = ["io"]\n`;
    expect(diagnose(three)).toEqual([]);
    const two = three.replace('[[processors.add_pieces]]\nlocks = ["io"]\n', "");
    expect(warnings(diagnose(two)).map((d) => d.path)).toEqual(["processors.ext_locks.io"]);
  });

  test("a processor running on a remote proxy should hold no lock", () => {
    const text = `${MANAGER}[processors.ext_locks]\ngpu = 1\n[[processors.pc2]]\nlocks = ["gpu"]\n[[processors.c2]]\nbin = "/usr/local/bin/damocles-worker-c2-outsource"\nargs = ["--url", "/ip4/apis.filecoin.io/tcp/10086/https"]\nlocks = ["gpu"]\n`;
    const ds = diagnose(text, { facts: { fs: fakeFs({ "/usr/local/bin/damocles-worker-c2-outsource": "exec" }) } });
    expect(ds.map((d) => d.path)).toEqual(["processors.c2[0].locks"]);
    expect(ds[0]!.message).toContain(
      "sends its work to a remote machine, yet holds lock gpu: processors.pc2[0] waits for a device this processor does not use",
    );
  });
});
