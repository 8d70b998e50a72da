import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  circuitsFor,
  defaultParamDir,
  gatherFacts,
  type ParamCheck,
  parseLimits,
  realFsProbe,
  scanParamDir,
} from "../../src/util/doctor/index.ts";
import { diagnose, errors, fakeFs, loadWorker, MANAGER, warnings } from "./helpers.ts";

const tmp = mkdtempSync(join(tmpdir(), "damocles-doctor-files-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("rule 5: files", () => {
  test("bin: missing, not executable, a directory, not on PATH, and fine", () => {
    const exe = join(tmp, "c2-ok");
    const plain = join(tmp, "c2-plain");
    writeFileSync(exe, "#!/bin/sh\n");
    chmodSync(exe, 0o755);
    writeFileSync(plain, "");
    chmodSync(plain, 0o644);
    const text = `${MANAGER}[[processors.c2]]\nbin = "${exe}"\n[[processors.c2]]\nbin = "${plain}"\n[[processors.c2]]\nbin = "${tmp}"\n[[processors.c2]]\nbin = "${join(tmp, "nope")}"\n[[processors.c2]]\nbin = "no-such-prover-xyz"\n[[processors.c2]]\nbin = "sh"\n`;
    const ds = diagnose(text, { facts: { fs: realFsProbe() } });
    expect(ds.map((d) => [d.severity, d.path, d.line])).toEqual([
      ["error", "processors.c2[1].bin", 6],
      ["error", "processors.c2[2].bin", 8],
      ["error", "processors.c2[3].bin", 10],
      ["error", "processors.c2[4].bin", 12],
    ]);
    expect(ds[0]!.message).toContain(
      `is not executable: the processor cannot start and every c2 task sent to it fails ("Permission denied (os error 13)"). Fix: chmod +x ${plain}`,
    );
    expect(ds[1]!.message).toContain("is a directory");
    expect(ds[2]!.message).toContain('("No such file or directory (os error 2)")');
    expect(ds[3]!.message).toContain('bin "no-such-prover-xyz" is not found on PATH');
  });

  test("seed 002's ~/my_algorithm is looked up under the home directory", () => {
    const text = `${MANAGER}[[processors.window_post]]\nbin="~/my_algorithm"\n`;
    const [d] = diagnose(text, { facts: { fs: fakeFs() } });
    expect(d?.message).toContain('bin "~/my_algorithm" (/home/op/my_algorithm) does not exist');
    expect(diagnose(text, { facts: { fs: fakeFs({ "/home/op/my_algorithm": "exec" }) } })).toEqual([]);
  });

  test("two threads on one location; missing and uninitialised stores", () => {
    const text = `${MANAGER}[[sealing_thread]]\nlocation = "/mnt/nvme1/store"\n[[sealing_thread]]\nlocation = "/mnt/nvme2/store"\n[[sealing_thread]]\nlocation = "/mnt/nvme1/store/"\n[[sealing_thread]]\nlocation = "/mnt/nvme3/store"\n[[sealing_thread]]\nplan = "wdpost"\n`;
    const fs = fakeFs({ "/mnt/nvme1/store": "dir", "/mnt/nvme1/store/.holder": "file", "/mnt/nvme2/store": "dir" });
    const ds = diagnose(text, { facts: { fs } });
    expect(ds.map((d) => [d.severity, d.path])).toEqual([
      ["warning", "sealing_thread[1].location"],
      ["error", "sealing_thread[2].location"],
      ["error", "sealing_thread[3].location"],
    ]);
    expect(ds[0]!.message).toContain("is not initialised (no .holder: sealing-init was not run there)");
    expect(ds[1]!.message).toContain("uses the same location as sealing_thread[0] (/mnt/nvme1/store)");
    expect(ds[2]!.message).toContain("Fix: damocles worker store sealing-init -l /mnt/nvme3/store");
  });

  test("attached stores that are not there, including the legacy [remote_store]", () => {
    const text = `${MANAGER}[[attached]]\nname = "persist-1"\nlocation = "/mnt/remote/p1"\n[[attached]]\nlocation = "/mnt/remote/p2"\n[remote_store]\nname = "old"\nlocation = "/mnt/remote/old"\n`;
    const ds = diagnose(text, { facts: { fs: fakeFs({ "/mnt/remote/p2": "dir" }) } });
    expect(ds.map((d) => [d.severity, d.path, d.line])).toEqual([
      ["error", "attached[0].location", 5],
      ["error", "remote_store.location", 10],
    ]);
    expect(ds[0]!.message).toContain('attached store "persist-1" at /mnt/remote/p1 does not exist');
  });

  test('"[[processors. window_post]]" (seed 002) is valid TOML for processors.window_post; the doctor says nothing about the name', () => {
    const text = `${MANAGER}[[processors. window_post]]\nconcurrent = 2\n`;
    const { config, warnings: w } = loadWorker(text);
    expect(w).toEqual([]);
    expect(config.processors.stages.window_post).toHaveLength(1);
    expect(diagnose(text)).toEqual([]);
  });

  test("\"[[processors.windowpost]]\" is the loader's warning (did you mean), not the doctor's", () => {
    const text = `${MANAGER}[[processors.windowpost]]\nconcurrent = 2\n`;
    expect(loadWorker(text).warnings.map((d) => d.message)[0]).toContain('did you mean "window_post"?');
    expect(diagnose(text)).toEqual([]);
  });
});

describe("rule 6: proof parameters", () => {
  // A WindowPoSt thread needs no store directory, so only the parameters are judged here.
  const sized = `${MANAGER}[sealing]\nallowed_sizes = ["32GiB"]\n[[sealing_thread]]\nplan = "wdpost"\n`;
  const noSysfs = join(tmp, "no-sysfs");

  test("the directory scan sees no parameters, or zero-length ones", () => {
    expect(scanParamDir(join(tmp, "none"))).toEqual([{ file: join(tmp, "none"), status: "missing" }]);
    const dir = join(tmp, "params");
    mkdirSync(dir);
    writeFileSync(join(dir, "v28-a.params"), "x");
    writeFileSync(join(dir, "v28-a.vk"), "");
    writeFileSync(join(dir, "notes.txt"), "");
    expect(scanParamDir(dir)).toEqual([
      { file: "v28-a.params", status: "present" },
      { file: "v28-a.vk", status: "empty", actualBytes: 0 },
    ]);
  });

  test("which circuits a worker needs follows its plans and processors", () => {
    expect(circuitsFor(loadWorker(sized).config)).toEqual(["window-post"]);
    const mixed = `${MANAGER}[[sealing_thread]]\nlocation = "/a"\n[[sealing_thread]]\nlocation = "/b"\nplan = "snapup"\n[[sealing_thread]]\nlocation = "/c"\nplan = "unseal"\n`;
    expect(circuitsFor(loadWorker(mixed).config)).toEqual(["porep", "empty-sector-update"]);
    expect(circuitsFor(loadWorker(`${MANAGER}[[sealing_thread]]\nlocation = "/r"\nplan = "rebuild"\n`).config)).toEqual(
      [],
    );
  });

  test('scan only: no parameters is an error at allowed_sizes quoting "No cached parameters found"', async () => {
    const { config } = loadWorker(sized);
    const none = join(tmp, "none");
    const facts = await gatherFacts(config, {
      paramCheck: null,
      env: { FIL_PROOFS_PARAMETER_CACHE: none },
      openFiles: null,
      fs: fakeFs(),
      sysfs: noSysfs,
    });
    expect(facts.params).toEqual([
      {
        cacheDir: none,
        origin: "FIL_PROOFS_PARAMETER_CACHE",
        files: [{ file: none, status: "missing" }],
        exact: false,
      },
    ]);
    const ds = diagnose(sized, { facts: { params: facts.params! } });
    expect(ds.map((d) => [d.severity, d.path, d.line])).toEqual([["error", "sealing.allowed_sizes", 4]]);
    expect(ds[0]!.message).toContain(
      `no proof parameters in ${none} (FIL_PROOFS_PARAMETER_CACHE); sealing and proving tasks for 32GiB fail with "No cached parameters found"`,
    );
  });

  test("the proofs module's check names the exact window-post files for 32GiB", async () => {
    const { config } = loadWorker(sized);
    const dir = join(tmp, "exact");
    const facts = await gatherFacts(config, {
      env: { FIL_PROOFS_PARAMETER_CACHE: dir },
      openFiles: null,
      fs: fakeFs(),
      sysfs: noSysfs,
    });
    const report = facts.params![0]!;
    // Where the proofs addon is not built the doctor falls back to the scan; both must flag the directory.
    if (report.exact) {
      expect(report.files.map((f) => [f.circuit, f.status])).toEqual([
        ["window-post", "missing"],
        ["window-post", "missing"],
      ]);
      expect(
        report.files.every((f) =>
          f.file.startsWith("v28-proof-of-spacetime-fallback-merkletree-poseidon_hasher-8-8-0-"),
        ),
      ).toBe(true);
    }
    const ds = diagnose(sized, { facts: { params: facts.params! } });
    expect(errors(ds)).toHaveLength(1);
    expect(ds[0]!.message).toContain('fail with "No cached parameters found"');
    if (report.exact) expect(ds[0]!.message).toContain("2 parameter files missing from");
  });

  test("an injected per-size check: empty, truncated and corrupt files, each with its symptom and fix", async () => {
    const GiB32 = 32 * 1024 ** 3;
    const check: ParamCheck = ({ sectorSizes, circuits }) => {
      expect(sectorSizes).toEqual([GiB32]);
      expect(circuits).toEqual(["window-post"]);
      return [
        { file: "v28-window-32g.params", status: "empty", sectorSize: GiB32, circuit: "window-post", actualBytes: 0 },
        {
          file: "v28-window-32g.vk",
          status: "truncated",
          sectorSize: GiB32,
          circuit: "window-post",
          actualBytes: 10,
          expectedBytes: 100,
        },
        {
          file: "v28-winning-32g.vk",
          status: "corrupt",
          sectorSize: GiB32,
          circuit: "winning-post",
          detail: "sha256 mismatch",
        },
        {
          file: "v28-winning-32g.params",
          status: "missing",
          sectorSize: GiB32,
          circuit: "winning-post",
          fix: "damocles util params fetch 32GiB",
        },
        { file: "v28-update-32g.params", status: "present", sectorSize: GiB32 },
      ];
    };
    const { config } = loadWorker(sized);
    const facts = await gatherFacts(config, {
      paramCheck: check,
      env: {},
      openFiles: null,
      fs: fakeFs(),
      sysfs: noSysfs,
    });
    const ds = diagnose(sized, { facts: { params: facts.params! } });
    expect(errors(ds)).toHaveLength(3);
    const [missing, empty, broken] = ds.map((d) => d.message);
    expect(missing).toContain("1 parameter file missing from");
    expect(missing).toContain("winning-post proofs for 32GiB fail");
    expect(missing).toContain("Fix: damocles util params fetch 32GiB.");
    expect(empty).toContain('"memory map must have a non-zero length"');
    expect(broken).toContain("v28-window-32g.vk (10 of 100 bytes), v28-winning-32g.vk (sha256 mismatch)");
  });

  test("a processor's own FIL_PROOFS_PARAMETER_CACHE is checked too, reported at that key", async () => {
    const text = `${sized}[[processors.window_post]]\nenvs = { FIL_PROOFS_PARAMETER_CACHE = "${join(tmp, "wd-params")}" }\n`;
    const { config } = loadWorker(text);
    const good = join(tmp, "good");
    mkdirSync(good);
    writeFileSync(join(good, "x.params"), "1");
    const facts = await gatherFacts(config, {
      paramCheck: null,
      env: { FIL_PROOFS_PARAMETER_CACHE: good },
      openFiles: null,
      fs: fakeFs(),
      sysfs: noSysfs,
    });
    const ds = diagnose(text, { facts: { params: facts.params! } });
    expect(ds.map((d) => d.path)).toEqual(["processors.window_post[0].envs.FIL_PROOFS_PARAMETER_CACHE"]);
  });

  test("without allowed_sizes there is nothing size-specific to check", async () => {
    const { config } = loadWorker(`${MANAGER}[[sealing_thread]]\nplan = "wdpost"\n`);
    const facts = await gatherFacts(config, { env: {}, openFiles: null, fs: fakeFs(), sysfs: noSysfs });
    expect(facts.params).toBeUndefined();
  });

  test("the default directory follows FIL_PROOFS_PARAMETER_CACHE, then DAMOCLES_CACHE", () => {
    expect(defaultParamDir({ FIL_PROOFS_PARAMETER_CACHE: "/p" })).toBe("/p");
    expect(defaultParamDir({ DAMOCLES_CACHE: "/c" })).toBe("/c/params");
  });
});

describe("rule 6: open files for WindowPoSt", () => {
  const wdpost = `${MANAGER}[[sealing_thread]]\nplan = "wdpost"\n`;
  test('a low limit on a wdpost worker quotes "Too many open files (os error 24)"', () => {
    const ds = diagnose(wdpost, { facts: { openFiles: { soft: 20000, hard: 20000 } } });
    expect(ds.map((d) => [d.severity, d.path, d.line])).toEqual([["warning", "sealing_thread[0].plan", 4]]);
    expect(ds[0]!.message).toContain("the open-file limit is 20000");
    expect(ds[0]!.message).toContain('"Too many open files (os error 24)"');
    expect(ds[0]!.message).toContain("LimitNOFILE=1048576");
  });

  test("enough files, or no WindowPoSt: nothing", () => {
    expect(diagnose(wdpost, { facts: { openFiles: { soft: 1048576, hard: 1048576 } } })).toEqual([]);
    expect(diagnose(wdpost, { facts: { openFiles: { soft: Infinity, hard: Infinity } } })).toEqual([]);
    expect(diagnose(MANAGER, { facts: { openFiles: { soft: 1024, hard: 4096 } } })).toEqual([]);
    // The worker raises its soft limit to the hard one at start: a low soft limit alone is no problem.
    expect(diagnose(wdpost, { facts: { openFiles: { soft: 1024, hard: 1048576 } } })).toEqual([]);
    const procs = `${MANAGER}[[processors.window_post]]\nconcurrent = 1\n`;
    expect(warnings(diagnose(procs, { facts: { openFiles: { soft: 1024, hard: 4096 } } })).map((d) => d.path)).toEqual([
      "processors.window_post",
    ]);
  });

  test("/proc/self/limits parsing", () => {
    const limits =
      "Limit                     Soft Limit           Hard Limit           Units\nMax open files            20000                1048576              files\n";
    expect(parseLimits(limits)).toEqual({ soft: 20000, hard: 1048576 });
    expect(parseLimits("Max open files  unlimited  unlimited  files")).toEqual({ soft: Infinity, hard: Infinity });
    expect(parseLimits("nothing")).toBeUndefined();
  });
});
