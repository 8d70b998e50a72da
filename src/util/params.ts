import { resolve } from "node:path";
import { CliError, command } from "../core/cli/command.ts";
import { renderTable } from "../core/cli/table.ts";
import { formatBytes } from "../core/config/units.ts";
import {
  CIRCUITS,
  type Circuit,
  DEFAULT_PARAMS_SEED,
  defaultCircuits,
  defaultParamsDir,
  type GenerateEvent,
  generateParams,
  inspectParams,
  parseCircuits,
  STANDARD_PARAMETER_DIR,
} from "../core/proofs/index.ts";
import { parseSectorSize, sectorSizeName } from "../core/sector/proof.ts";

/**
 * `damocles util params generate|check`: the Groth16 parameter files the proofs need, generated
 * locally and deterministically for devnets (2KiB, 8MiB; 512MiB without the empty-sector update).
 */

function sizeArg(text: string | undefined): number {
  if (!text) throw new CliError("--sector-size is required (2KiB, 8MiB, 512MiB, 32GiB or 64GiB)", 2);
  try {
    return parseSectorSize(text);
  } catch (err) {
    throw new CliError((err as Error).message, 2);
  }
}

function circuitsArg(text: string | undefined, size: number): Circuit[] {
  try {
    return parseCircuits(text) ?? defaultCircuits(size);
  } catch (err) {
    throw new CliError((err as Error).message, 2);
  }
}

function dirArg(text: string | undefined): string {
  return resolve(text && text.trim() !== "" ? text : defaultParamsDir());
}

function fmtSeconds(s: number): string {
  return s < 60 ? `${s.toFixed(1)}s` : `${Math.floor(s / 60)}m${Math.round(s % 60)}s`;
}

const generate = command({
  meta: {
    name: "generate",
    description:
      "Generate every circuit's parameters and verifying keys for a sector size, deterministically from a seed " +
      "(a private trusted setup: devnets and tests only). Skips what is already usable.",
  },
  args: {
    "sector-size": {
      type: "string",
      description: "2KiB, 8MiB or 512MiB (512MiB: PoRep and PoSt only)",
      valueHint: "SIZE",
      required: true,
    },
    seed: {
      type: "string",
      description: `seed string; machines of one devnet must use the same (default "${DEFAULT_PARAMS_SEED}")`,
      valueHint: "S",
    },
    dir: {
      type: "string",
      description: "parameter directory (default: $FIL_PROOFS_PARAMETER_CACHE or ~/.cache/damocles/params)",
      valueHint: "DIR",
    },
    circuits: { type: "string", description: `comma-separated subset of ${CIRCUITS.join(",")}`, valueHint: "LIST" },
    force: { type: "boolean", description: "regenerate circuits whose files are already usable", default: false },
  },
  examples: [
    "damocles util params generate --sector-size 2KiB",
    "damocles util params generate --sector-size 8MiB --seed my-devnet --dir /data/params",
  ],
  async run({ args }) {
    const size = sizeArg(args["sector-size"]);
    const circuits = circuitsArg(args.circuits, size);
    const dir = dirArg(args.dir);
    if (resolve(dir) === resolve(STANDARD_PARAMETER_DIR) && !args.dir) {
      throw new CliError(
        `refusing to write locally generated parameters into the standard production directory ${STANDARD_PARAMETER_DIR} ` +
          `(it comes from FIL_PROOFS_PARAMETER_CACHE); pass --dir ${STANDARD_PARAMETER_DIR} to insist, or choose another --dir`,
      );
    }
    if (size > 512 << 20) {
      throw new CliError(
        `${sectorSizeName(size)} parameters are too large to generate here; use the published parameters`,
      );
    }
    if (size === 512 << 20 && circuits.includes("empty-sector-update")) {
      process.stderr.write(
        "warning: 512MiB empty-sector-update setup needs far more than 24 GiB of RAM and hours of CPU\n",
      );
    }
    const seed = args.seed ?? DEFAULT_PARAMS_SEED;
    const tty = process.stderr.isTTY === true;
    const t0 = performance.now();
    process.stderr.write(
      `generating ${sectorSizeName(size)} parameters (${circuits.join(", ")}) into ${dir}, seed ${JSON.stringify(seed)}\n`,
    );
    if (size === 512 << 20 && !args.circuits) {
      process.stderr.write(
        "note: 512MiB skips empty-sector-update (its setup does not fit in memory here); pass --circuits to force\n",
      );
    }
    const line = (e: GenerateEvent, text: string) => `[${e.index}/${e.total}] ${e.circuit.padEnd(19)} ${text}`;
    const onProgress = (e: GenerateEvent) => {
      if (e.type === "skip") process.stderr.write(`${line(e, "already present, skipped")}\n`);
      else if (e.type === "start") process.stderr.write(tty ? line(e, "generating…") : `${line(e, "generating…")}\n`);
      else if (e.type === "tick")
        process.stderr.write(
          tty
            ? `\r${line(e, `generating… ${fmtSeconds(e.elapsed)}`)}`
            : `${line(e, `still generating, ${fmtSeconds(e.elapsed)}`)}\n`,
        );
      else {
        const params = e.files?.find((f) => f.name.endsWith(".params"));
        const text = `done in ${fmtSeconds(e.elapsed)}${params ? ` (${formatBytes(params.size)} .params)` : ""}`;
        process.stderr.write(tty ? `\r\x1b[K${line(e, text)}\n` : `${line(e, text)}\n`);
      }
    };
    let summary: Awaited<ReturnType<typeof generateParams>>;
    try {
      summary = await generateParams(size, {
        dir,
        seed,
        circuits,
        force: args.force,
        onProgress,
        tickSeconds: tty ? 1 : 30,
      });
    } catch (err) {
      throw new CliError(`parameter generation failed: ${(err as Error).message}`);
    }
    const total = fmtSeconds((performance.now() - t0) / 1000);
    process.stdout.write(
      `${sectorSizeName(size)} parameters ready in ${dir}: ${summary.generated.length} generated, ${summary.skipped.length} already present (${total})\n`,
    );
  },
});

const check = command({
  meta: {
    name: "check",
    description:
      "List each expected parameter file as present / missing / empty / truncated / corrupt; exit non-zero with the fixing command if any is not usable",
  },
  args: {
    "sector-size": {
      type: "string",
      description: "2KiB, 8MiB, 512MiB, 32GiB or 64GiB",
      valueHint: "SIZE",
      required: true,
    },
    dir: {
      type: "string",
      description: "parameter directory (default: $FIL_PROOFS_PARAMETER_CACHE or ~/.cache/damocles/params)",
      valueHint: "DIR",
    },
    circuits: { type: "string", description: `comma-separated subset of ${CIRCUITS.join(",")}`, valueHint: "LIST" },
    verify: {
      type: "boolean",
      description: "also compare sha256 with the generation manifest (reads every byte)",
      default: false,
    },
    json: { type: "boolean", description: "print the report as JSON", default: false },
  },
  examples: [
    "damocles util params check --sector-size 2KiB",
    "damocles util params check --sector-size 8MiB --dir /data/params --verify",
  ],
  async run({ args }) {
    const size = sizeArg(args["sector-size"]);
    const circuits = circuitsArg(args.circuits, size);
    const dir = dirArg(args.dir);
    const report = await inspectParams(size, { dir, circuits, verifyHashes: args.verify });
    if (args.json) {
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    } else {
      process.stdout.write(`# ${sectorSizeName(size)} parameters in ${dir}\n`);
      const rows = report.circuits.flatMap((c) =>
        c.files.map((f) => [
          c.circuit,
          f.role + (f.required ? "" : " (optional)"),
          f.status,
          f.status === "missing" ? "-" : formatBytes(f.size),
          f.name + (f.detail ? `  (${f.detail})` : ""),
        ]),
      );
      process.stdout.write(renderTable(["CIRCUIT", "FILE", "STATUS", "SIZE", "NAME"], rows));
      const seeds = [...new Set(report.circuits.map((c) => c.seedFingerprint).filter((s): s is string => !!s))];
      if (seeds.length > 1)
        process.stdout.write(
          `warning: files come from ${seeds.length} different seeds; proofs will not verify across them\n`,
        );
    }
    if (!report.usable) {
      const bad = report.circuits.flatMap((c) => c.files.filter((f) => f.required && f.status !== "present"));
      throw new CliError(
        `${bad.length} parameter file${bad.length === 1 ? " is" : "s are"} not usable in ${dir} ` +
          `(${bad
            .map((f) => f.status)
            .filter((s, i, a) => a.indexOf(s) === i)
            .join(", ")}). Fix: ${report.fix}`,
      );
    }
  },
});

export const paramsCommand = command({
  meta: { name: "params", description: "Proof parameters: generate locally (devnets) and check what is present" },
  subCommands: { generate, check },
  examples: ["damocles util params generate --sector-size 2KiB", "damocles util params check --sector-size 2KiB"],
});
