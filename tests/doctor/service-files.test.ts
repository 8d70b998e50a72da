/** The open-file limit for the files the manager and the poster read: WindowPoSt runs there by default. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfigText } from "../../src/core/config/index.ts";
import { checkConfigFile } from "../../src/util/config/cli.ts";
import { diagnoseServiceFile, type OpenFileLimit } from "../../src/util/doctor/index.ts";

const LOW: OpenFileLimit = { soft: 1024, hard: 20000 };

/** `limit` null: the limit could not be read. */
function manager(text: string, limit: OpenFileLimit | null = LOW) {
  const config = parseConfigText("manager", text, "sector-manager.cfg").value;
  const openFiles = limit ?? undefined;
  return diagnoseServiceFile({ kind: "manager", file: "sector-manager.cfg", text, config, openFiles });
}

function extProver(text: string, limit: OpenFileLimit = LOW) {
  const config = parseConfigText("ext-prover", text, "ext-prover.cfg").value;
  return diagnoseServiceFile({ kind: "ext-prover", file: "ext-prover.cfg", text, config, openFiles: limit });
}

describe("sector-manager.cfg (manager run --poster, poster run)", () => {
  test("a miner proving WindowPoSt (PoSt.Enabled by default) under a low hard limit: a warning at the miner", () => {
    const ds = manager('[Common]\n[Common.API]\nChain = "/ip4/127.0.0.1/tcp/1234"\n\n[[Miners]]\nActor = 1000\n');
    expect(ds.map((d) => [d.severity, d.path, d.line])).toEqual([["warning", "Miners[0].Actor", 6]]);
    const m = ds[0]!.message;
    expect(m).toContain("the open-file limit is 20000 (hard; soft 1024");
    expect(m).toContain("a manager run with --poster, or a poster run, proves WindowPoSt for miner 1000");
    expect(m).toContain('"Too many open files (os error 24)"');
    expect(m).toContain("Fix: raise it for the manager or poster to at least 65536, e.g. LimitNOFILE=1048576");
  });

  test("PoSt.Enabled written out is where the warning points; only proving miners are named", () => {
    const text =
      "[[Miners]]\nActor = 1000\n[Miners.PoSt]\nEnabled = false\n\n[[Miners]]\nActor = 1001\n[Miners.PoSt]\nEnabled = true\n";
    const ds = manager(text);
    expect(ds.map((d) => [d.path, d.line])).toEqual([["Miners[1].PoSt.Enabled", 9]]);
    expect(ds[0]!.message).toContain("proves WindowPoSt for miner 1001 (PoSt.Enabled)");
  });

  test("nothing to say: no proving miner, a high hard limit (the soft one is raised at start), or no limit known", () => {
    expect(manager("[[Miners]]\nActor = 1000\n[Miners.PoSt]\nEnabled = false\n")).toEqual([]);
    expect(manager("[Common]\n")).toEqual([]);
    expect(manager("[[Miners]]\nActor = 1000\n", { soft: 1024, hard: 1048576 })).toEqual([]);
    expect(manager("[[Miners]]\nActor = 1000\n", { soft: Infinity, hard: Infinity })).toEqual([]);
    expect(manager("[[Miners]]\nActor = 1000\n", null)).toEqual([]);
  });
});

describe("ext-prover.cfg", () => {
  test("[[WdPost]] processors share the daemon's low limit: a warning at the first", () => {
    const ds = extProver('[[WinPost]]\nBin = "/usr/bin/true"\n\n[[WdPost]]\nBin = "/usr/bin/true"\n');
    expect(ds.map((d) => [d.severity, d.path, d.line])).toEqual([["warning", "WdPost[0]", 4]]);
    expect(ds[0]!.message).toContain("the 1 [[WdPost]] processor run WindowPoSt");
    expect(ds[0]!.message).toContain("Fix: raise it for the manager or poster that starts them");
  });

  test("WinningPoSt only, or enough files: nothing", () => {
    expect(extProver('[[WinPost]]\nBin = "/usr/bin/true"\n')).toEqual([]);
    expect(extProver('[[WdPost]]\nBin = "/usr/bin/true"\n', { soft: 65536, hard: 65536 })).toEqual([]);
  });
});

describe("util config check runs it", () => {
  const tmp = mkdtempSync(join(tmpdir(), "damocles-svc-doctor-"));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  test("a manager file: the warning with its line, the file still accepted; --no-doctor skips it", async () => {
    const file = join(tmp, "sector-manager.cfg");
    writeFileSync(file, "[[Miners]]\nActor = 1000\n");
    const report = await checkConfigFile(file, undefined, { openFiles: LOW });
    expect(report.kind).toBe("manager");
    expect(report.ok).toBe(true);
    expect(report.diagnostics.map((d) => [d.severity, d.path, d.line])).toEqual([["warning", "Miners[0].Actor", 2]]);
    expect((await checkConfigFile(file, undefined, false)).diagnostics).toEqual([]);
  });

  test("an ext-prover file", async () => {
    const file = join(tmp, "ext-prover.cfg");
    writeFileSync(file, '[[WdPost]]\nBin = "/usr/bin/true"\n');
    const report = await checkConfigFile(file, "ext-prover", { openFiles: LOW });
    expect(report.diagnostics.map((d) => d.path)).toEqual(["WdPost[0]"]);
  });
});
