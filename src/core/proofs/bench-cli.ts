import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import * as v from "valibot";
import { parseSectorSize, sectorSizeName } from "../sector/proof.ts";
import { type BenchResult, BOOLEANS, runProofsBenchmark, SKIPPABLE } from "./bench.ts";
import { formatProofTable } from "./bench-split.ts";
import { ensureProofsConfigured } from "./config.ts";
import { busyLine } from "./machine-load.ts";
import { inspectParams } from "./params.ts";

/** scripts/bench-proofs: arguments, the printed report, and the refusal to record figures of a busy machine. */

const ArgsSchema = v.object({
  "sector-size": v.string(),
  json: v.optional(v.string()),
  dir: v.optional(v.string()),
  keep: v.boolean(),
  skip: v.array(
    v.picklist(
      SKIPPABLE,
      `--skip takes ${SKIPPABLE.join(", ")} (e.g. --skip snap for 8MiB, whose snap prove takes ~28 min)`,
    ),
  ),
  "allow-busy": v.boolean(),
  help: v.boolean(),
});

const USAGE =
  "usage: scripts/bench-proofs [--sector-size 2KiB|8MiB] [--json FILE] [--allow-busy] [--skip snap] [--dir WORKDIR] [--keep]\n" +
  "Runs seal (data + CC sector), C1+C2 + verify, tampered-proof check, WinningPoSt, WindowPoSt, snap update and unseal,\n" +
  "verifying everything; each proof runs twice in the process (the first loads its parameters) and is split\n" +
  "into vanilla proofs and SNARK from the library's own logs. Prints per-stage seconds and peak RSS.\n" +
  "The 1-minute load is judged at start and end: a busy machine is reported, and --json refuses to write\n" +
  "figures taken on one unless --allow-busy. Needs the sector size's parameters\n" +
  "(damocles util params generate --sector-size SIZE).\n";

async function main(argv: string[]): Promise<number> {
  const { values: raw } = parseArgs({
    args: argv,
    options: {
      "sector-size": { type: "string", default: "2KiB" },
      json: { type: "string" },
      dir: { type: "string" },
      keep: { type: "boolean", default: false },
      skip: { type: "string", multiple: true, default: [] },
      "allow-busy": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const parsed = v.safeParse(ArgsSchema, { ...raw, skip: (raw.skip ?? []).flatMap((x) => x.split(",")) });
  if (!parsed.success) {
    const issue = parsed.issues[0];
    process.stderr.write(
      `bench-proofs: --${(v.getDotPath(issue) ?? "argument").split(".")[0]}: ${issue.message} (got ${JSON.stringify(issue.input)})\n`,
    );
    return 2;
  }
  const values = parsed.output;
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const size = parseSectorSize(values["sector-size"]);
  if (size > 512 << 20) throw new Error("bench-proofs supports 2KiB, 8MiB and 512MiB");
  const settings = ensureProofsConfigured();
  const circuits = ["porep", "winning-post", "window-post", "empty-sector-update"] as const;
  const params = await inspectParams(size, {
    dir: settings.parameterCache,
    circuits: values.skip.includes("snap") ? circuits.slice(0, 3) : [...circuits],
  });
  if (!params.usable) {
    process.stderr.write(
      `parameters for ${sectorSizeName(size)} are not usable in ${params.dir}. Fix: ${params.fix}\n`,
    );
    return 2;
  }
  const workDir = values.dir
    ? resolve(values.dir)
    : mkdtempSync(join(tmpdir(), `damocles-bench-${sectorSizeName(size)}-`));
  mkdirSync(workDir, { recursive: true });
  process.stderr.write(`bench-proofs ${sectorSizeName(size)} in ${workDir} (params: ${settings.parameterCache})\n`);
  let result: BenchResult;
  try {
    result = await runProofsBenchmark(size, workDir, (l) => process.stderr.write(`${l}\n`), values.skip);
  } finally {
    if (!values.keep && !values.dir) rmSync(workDir, { recursive: true, force: true });
  }
  printResult(result);
  if (values.json) {
    if (result.load.busy && !values["allow-busy"]) {
      process.stderr.write(
        `bench-proofs: not writing ${values.json}: ${busyLine(result.load)}. Rerun on a quiet machine, or pass --allow-busy to record them anyway (marked publishable: false).\n`,
      );
      return 3;
    }
    writeFileSync(values.json, `${JSON.stringify(result, null, 2)}\n`);
  }
  return BOOLEANS.every((k) => result[k] !== false) ? 0 : 1;
}

function printResult(result: BenchResult): void {
  const mib = (b: number | undefined) => (b === undefined ? "-" : `${(b / 2 ** 20).toFixed(0)} MiB`);
  const width = Math.max(...Object.keys(result.stages_s).map((k) => k.length));
  const out = (s: string) => process.stdout.write(s);
  out(`\n${result.sector_size} lifecycle (${result.machine.cpus} CPUs, ${result.machine.cpu_model})\n`);
  out(`${"stage".padEnd(width)}  seconds  peak RSS   (c1, c2, winning/window_post, snap_*: both runs summed)\n`);
  for (const [k, sec] of Object.entries(result.stages_s)) {
    out(`${k.padEnd(width)}  ${sec.toFixed(3).padStart(7)}  ${mib(result.peak_rss_bytes[k]).padStart(8)}\n`);
  }
  out(
    `${"total".padEnd(width)}  ${result.total_s.toFixed(2).padStart(7)}  ${mib(result.peak_rss_bytes.process).padStart(8)}\n\n`,
  );
  out("proofs, seconds. wall: vanilla + SNARK steps as called; cpu: this process's CPU time meanwhile;\n");
  out("vanilla, snark (= synth + prover), params, vk, check, selfverify, other: from the library's own log marks;\n");
  out("first: its parameters not yet in the process's memory cache; load1: 1-minute load at the run's start\n");
  out(`${formatProofTable(result.proofs)}\n\n`);
  const l = result.load;
  out(
    `load: ${l.start.load1} at start, ${l.end.load1} at end (${l.own_cores_last_minute} of it this run's own), ` +
      `${l.cores} cores${l.others_cores === undefined ? "" : `; other processes used ${l.others_cores} cores on average`}\n`,
  );
  if (l.busy) out(`${busyLine(l)}\n`);
  if (result.skipped.length > 0) out(`skipped: ${result.skipped.join(", ")}\n`);
  for (const k of BOOLEANS) out(`${k}: ${result[k] ?? "skipped"}\n`);
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`bench-proofs: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
