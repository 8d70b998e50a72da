import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../../src/core/config/diagnostics.ts";
import { createExtProver, type ExtProvers } from "../../src/manager/prover/ext-prover.ts";
import { postSectors2KiB } from "../fixtures/post-sectors.ts";
import { ENTRY } from "../helpers/cli.ts";
import {
  capturingLogger,
  copySectors,
  seedOf,
  verifyWindow,
  verifyWinning,
  windowTask,
  winningTask,
} from "./helpers.ts";

// Real processor children (this damocles from source) and real 2KiB proofs.
setDefaultTimeout(10 * 60_000);

const FAKE = join(import.meta.dir, "../fixtures/processors/fake.ts");
const RUST_STYLE = join(import.meta.dir, "fixtures/rust-style-window-post.ts");
/** In tests Bun.main is the test file: say how to run damocles itself, as selfCommand() does in the daemon. */
const SELF = [process.execPath, ENTRY];

const tmp = mkdtempSync(join(tmpdir(), "damocles-ext-prover-"));
const opened: ExtProvers[] = [];
afterAll(async () => {
  await Promise.all(opened.map((p) => p.close()));
  rmSync(tmp, { recursive: true, force: true });
});

function writeConfig(name: string, text: string): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, "ext-prover.cfg");
  writeFileSync(path, text);
  return path;
}

/** Pids of this test process's children whose command line mentions `needle` (Linux /proc). */
function childrenRunning(needle: string): number[] {
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .flatMap((d) => {
      try {
        const ppid = Number(
          readFileSync(`/proc/${d}/stat`, "utf8")
            .replace(/^.*\) /s, "")
            .split(" ")[1],
        );
        const cmdline = readFileSync(`/proc/${d}/cmdline`, "utf8");
        return ppid === process.pid && cmdline.includes(needle) ? [Number(d)] : [];
      } catch {
        return []; // exited while we looked
      }
    });
}

async function open(configPath: string, log = capturingLogger().log): Promise<ExtProvers> {
  const p = await createExtProver({ configPath, self: SELF, log, restartDelayMs: 100 });
  opened.push(p);
  return p;
}

describe("ext-prover with the built-in processors", () => {
  test("two [[WdPost]] children (default Bin) start, log readiness, and prove concurrently; no [[WinPost]] falls back to in-process", async () => {
    const configPath = writeConfig(
      "two",
      `[[WdPost]]
ReadyTimeoutSecs = 120
[WdPost.Envs]
DAMOCLES_TEST_CHILD = "0"

[[WdPost]]
Concurrent = 1
Weight = 2
ReadyTimeoutSecs = 120
`,
    );
    const capture = capturingLogger();
    const provers = await open(configPath, capture.log);
    expect(capture.lines.filter((l) => /^ext-prover: window_post child #\d \(.+\) ready$/.test(l)).sort()).toEqual([
      `ext-prover: window_post child #0 (${SELF.join(" ")}) ready`,
      `ext-prover: window_post child #1 (${SELF.join(" ")}) ready`,
    ]);
    expect(capture.lines).toContain(
      `ext-prover: no [[WinPost]] entries in ${configPath}; winning_post runs in-process (local prover)`,
    );
    expect(provers.window.name).toBe("ext-prover (2 window_post processors)");
    expect(provers.winning.name).toBe("local");

    const all = await postSectors2KiB();
    const [a, b] = [all.slice(0, 2), all.slice(2, 4)];
    const [seedA, seedB] = [seedOf("ext a"), seedOf("ext b")];
    // Concurrent = 1 each: the two tasks run in different children at the same time.
    const [outA, outB] = await Promise.all([
      provers.window.generateWindowPoSt(windowTask(a, seedA)),
      provers.window.generateWindowPoSt(windowTask(b, seedB)),
    ]);
    expect(outA.faults).toEqual([]);
    expect(outB.faults).toEqual([]);
    expect(outA.proofs[0]!.postProof).toBe(windowTask(a, seedA).proofType);
    expect(await verifyWindow(a, seedA, outA.proofs)).toBe(true);
    expect(await verifyWindow(b, seedB, outB.proofs)).toBe(true);
  });

  test("[[WinPost]] children prove WinningPoSt; a missing sealed file in a WindowPoSt is a fault, the rest verifies", async () => {
    const configPath = writeConfig(
      "both",
      `[[WdPost]]\nReadyTimeoutSecs = 120\n\n[[WinPost]]\nReadyTimeoutSecs = 120\n`,
    );
    const capture = capturingLogger();
    const provers = await open(configPath, capture.log);
    expect(capture.lines).toContain(`ext-prover: winning_post child #0 (${SELF.join(" ")}) ready`);
    expect(provers.winning.name).toBe("ext-prover (1 winning_post processor)");
    const win = await winningTask(await postSectors2KiB(), seedOf("ext winning 2"));
    const proofs = await provers.winning.generateWinningPoSt(win);
    expect(proofs[0]!.postProof).toBe(win.proofType);
    expect(await verifyWinning(win, proofs[0]!)).toBe(true);

    const sectors = copySectors((await postSectors2KiB()).slice(0, 3), join(tmp, "both-sectors"));
    rmSync(sectors[0]!.sealedPath);
    const seed = seedOf("ext faults");
    const out = await provers.window.generateWindowPoSt(windowTask(sectors, seed));
    expect(out.faults).toEqual([sectors[0]!.sectorId]);
    expect(await verifyWindow(sectors.slice(1), seed, out.proofs)).toBe(true);
  });

  test("a processor that answers only the faults (vc-processors' rust built-in): the other sectors are proven again", async () => {
    const configPath = writeConfig(
      "rust-style",
      `[[WdPost]]\nBin = ${JSON.stringify(process.execPath)}\nArgs = [${JSON.stringify(RUST_STYLE)}]\nReadyTimeoutSecs = 120\n`,
    );
    const capture = capturingLogger();
    const provers = await open(configPath, capture.log);
    expect(capture.lines).toContain(`ext-prover: window_post child #0 (${process.execPath}) ready`);
    const sectors = copySectors((await postSectors2KiB()).slice(3, 6), join(tmp, "rust-style-sectors"));
    rmSync(sectors[1]!.sealedPath);
    const seed = seedOf("rust style");
    const out = await provers.window.generateWindowPoSt(windowTask(sectors, seed));
    expect(out.faults).toEqual([sectors[1]!.sectorId]);
    expect(out.proofs.length).toBe(1);
    expect(await verifyWindow([sectors[0]!, sectors[2]!], seed, out.proofs)).toBe(true);
    expect(
      capture.lines.some((l) =>
        l.includes(`reported faulty sectors ${sectors[1]!.sectorId}; proving the other 2 again`),
      ),
    ).toBe(true);
  });
});

describe("ext-prover start-up and protocol errors", () => {
  test("a Bin that does not exist: the error names the entry and its command", async () => {
    const configPath = writeConfig(
      "no-bin",
      `[[WdPost]]\nBin = "/nonexistent/damocles-prover"\nArgs = ["window_post"]\n`,
    );
    const err = await createExtProver({ configPath, self: SELF, log: capturingLogger().log }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    const msg = (err as Error).message;
    expect(msg).toContain(`${configPath}:1 [[WdPost]] #0: cannot start /nonexistent/damocles-prover window_post`);
    expect(msg).toContain("check Bin");
  });

  test("a child that never says ready: the error names the entry and ReadyTimeoutSecs; the healthy child is stopped", async () => {
    const configPath = writeConfig(
      "never-ready",
      `[[WinPost]]
Bin = ${JSON.stringify(process.execPath)}
Args = [${JSON.stringify(FAKE)}, "winning_post"]

[[WdPost]]
Bin = ${JSON.stringify(process.execPath)}
Args = [${JSON.stringify(FAKE)}, "window_post"]
ReadyTimeoutSecs = 1
[WdPost.Envs]
FAKE_NOT_READY = "1"
`,
    );
    const capture = capturingLogger();
    const err = await createExtProver({ configPath, self: SELF, log: capture.log }).catch((e: unknown) => e);
    const msg = (err as Error).message;
    expect(msg).toContain(`ext-prover: 1 of 2 processor(s) did not start`);
    expect(msg).toContain(`${configPath}:5 [[WdPost]] #0: processor window_post#0`);
    expect(msg).toContain(`no "window_post processor ready" line within 1000ms`);
    expect(msg).toContain("ReadyTimeoutSecs = 1");
    expect(capture.lines).toContain(`ext-prover: winning_post child #0 (${process.execPath}) ready`);
    expect(childrenRunning(FAKE)).toEqual([]);
  });

  test("an invalid ext-prover.cfg fails with file:line; a missing one says so", async () => {
    const configPath = writeConfig("invalid", `[[WdPost]]\nConcurrent = 0\n`);
    const err = await createExtProver({ configPath, self: SELF, log: capturingLogger().log }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain(`${configPath}:2 WdPost[0].Concurrent`);
    const missing = await createExtProver({ configPath: join(tmp, "nowhere.cfg"), self: SELF }).catch(
      (e: unknown) => e,
    );
    expect((missing as Error).message).toContain("file not found");
  });

  test("a child that answers something else than a PoSt result: the task fails naming the child and its entry", async () => {
    // fake.ts answers {echo} with the echo: a PoSt task has none, so it answers null.
    const configPath = writeConfig(
      "wrong-output",
      `[[WdPost]]\nBin = ${JSON.stringify(process.execPath)}\nArgs = [${JSON.stringify(FAKE)}, "window_post"]\n`,
    );
    const provers = await open(configPath);
    expect(childrenRunning(FAKE).length).toBe(1);
    const sectors = (await postSectors2KiB()).slice(0, 1);
    const err = await provers.window.generateWindowPoSt(windowTask(sectors, seedOf("wrong"))).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(
      /^ext-prover window_post child #0 \(.+ext-prover\.cfg:1 \[\[WdPost\]\] #0, pid \d+\) answered an output that is not a result of its stage/,
    );
    await provers.close();
    expect(childrenRunning(FAKE)).toEqual([]);
  });
});
