/**
 * Orchestration overhead: the sealing pipeline (devnet manager + worker with external processors, via
 * scripts/demo.ts) against the raw stage times of the proofs library (scripts/bench-proofs) for the same
 * sector size. Prints both and their ratio.
 *   bun scripts/bench-seal.ts --sector-size 2KiB --sectors 2 [--raw bench-proofs.json]
 */

import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

const { values: o } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    "sector-size": { type: "string", default: "2KiB" },
    sectors: { type: "string", default: "2" },
    raw: { type: "string" },
  },
});
const ROOT = resolve(import.meta.dir, "..");
const size = o["sector-size"]!;
const sectors = Number(o.sectors);
if (!Number.isInteger(sectors) || sectors < 1)
  throw new Error(`--sectors: expected a positive integer, got "${o.sectors}"`);

async function run(cmd: string[]): Promise<string> {
  const p = Bun.spawn(cmd, { cwd: ROOT, stdout: "pipe", stderr: "inherit" });
  const out = await new Response(p.stdout).text();
  if ((await p.exited) !== 0) throw new Error(`${cmd.join(" ")} failed:\n${out.slice(-2000)}`);
  return out;
}

// 1. Raw: one sector's sealing stages straight through the library, in one process.
let rawFile = o.raw;
if (!rawFile) {
  rawFile = join(mkdtempSync(join(tmpdir(), "bench-seal-")), "raw.json");
  console.error(`running scripts/bench-proofs --sector-size ${size} for the raw baseline…`);
  await run([join(ROOT, "scripts/bench-proofs"), "--sector-size", size, "--json", rawFile]);
}
const raw = JSON.parse(readFileSync(rawFile, "utf8")) as { stages_s: Record<string, number> };
const SEAL_STAGES = ["add_piece", "tree_d", "pc1", "pc2", "c1", "c2"];
const perSector = SEAL_STAGES.reduce((sum, k) => sum + (raw.stages_s[k] ?? 0), 0);

// 2. Pipeline: the real cluster, K sectors, two sealing threads, pc1/pc2/c2 in external processors.
const t0 = performance.now();
const out = await run([
  process.execPath,
  join(ROOT, "scripts/demo.ts"),
  "--sectors",
  String(sectors),
  "--sector-size",
  size,
]);
const wall = (performance.now() - t0) / 1000;
const summary = out.trim().split("\n").at(-1) ?? "";
const finished = Number(/sectors_finished=(\d+)/.exec(summary)?.[1] ?? 0);
if (finished !== sectors) throw new Error(`the pipeline finished ${finished} of ${sectors} sectors: ${summary}`);

const rawSerial = perSector * sectors;
console.log(`sector size            ${size}`);
console.log(`sectors                ${sectors}`);
console.log(
  `raw stages per sector  ${perSector.toFixed(2)} s  (${SEAL_STAGES.map((k) => `${k} ${(raw.stages_s[k] ?? 0).toFixed(2)}`).join(", ")})`,
);
console.log(`raw, serial, x${sectors}       ${rawSerial.toFixed(2)} s`);
console.log(
  `pipeline wall time     ${wall.toFixed(2)} s  (includes devnet waits: PreCommit landing, the seed's challenge delay, ProveCommit landing)`,
);
console.log(`overhead ratio         ${(wall / rawSerial).toFixed(2)}  (pipeline / raw serial)`);
