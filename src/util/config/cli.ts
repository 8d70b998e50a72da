import { CliError, command } from "../../core/cli/command.ts";
import {
  CONFIG_KINDS,
  type ConfigDiagnostic,
  ConfigError,
  type ConfigKind,
  detectKind,
  formatDiagnostic,
  loadThreadHotConfig,
  parseConfigText,
  resolveWorkerConfig,
  type ThreadHotConfig,
} from "../../core/config/index.ts";
import { type RunDoctorOptions, runDoctor } from "../doctor/run.ts";
import { runServiceDoctor } from "../doctor/services.ts";
import { renderExtProver, renderManager, renderWorker, threadViews } from "./render.ts";

export interface CheckReport {
  kind: ConfigKind;
  file: string;
  ok: boolean;
  diagnostics: ConfigDiagnostic[];
  /** The effective configuration as text (absent when the file does not load). */
  effective?: string;
  /** The effective configuration as data, for --json. */
  data?: unknown;
}

/**
 * Validate one file and build its effective view. Never throws for a bad file: the report says why.
 * A valid file then goes to the doctor (machine-aware rules: a worker file's hardware, a manager or
 * ext-prover file's open-file limit), unless `doctor` is false.
 */
export async function checkConfigFile(
  file: string,
  kindArg?: ConfigKind,
  doctor: RunDoctorOptions | false = {},
): Promise<CheckReport> {
  const f = Bun.file(file);
  if (!(await f.exists())) {
    return {
      kind: kindArg ?? "worker",
      file,
      ok: false,
      diagnostics: [{ severity: "error", file, path: "", message: "file not found" }],
    };
  }
  const text = await f.text();
  const kind = kindArg ?? detectKind(file, text);
  if (!kind) {
    return {
      kind: "worker",
      file,
      ok: false,
      diagnostics: [
        {
          severity: "error",
          file,
          path: "",
          message: `cannot tell what kind of configuration this is; pass --kind (${CONFIG_KINDS.join("|")})`,
        },
      ],
    };
  }
  try {
    if (kind === "worker") {
      const loaded = parseConfigText("worker", text, file);
      const cfg = resolveWorkerConfig(loaded.value);
      const diagnostics = [...loaded.warnings];
      const hot: (ThreadHotConfig | undefined)[] = [];
      const hotFiles: (string | undefined)[] = [];
      for (const t of cfg.threads) {
        const h = t.location ? await loadHotSafely(t.location, diagnostics) : undefined;
        hot.push(h?.value);
        hotFiles.push(h?.file);
      }
      if (doctor) diagnostics.push(...(await runDoctor({ file, text, config: cfg }, doctor)));
      const errors = diagnostics.some((d) => d.severity === "error");
      const views = threadViews(cfg, loaded.value.sealing_thread, hot, hotFiles);
      return {
        kind,
        file,
        ok: !errors,
        diagnostics,
        effective: renderWorker(cfg, views),
        data: { ...cfg, threads: views },
      };
    }
    if (kind === "manager") {
      const loaded = parseConfigText("manager", text, file);
      const found = doctor ? runServiceDoctor({ kind, file, text, config: loaded.value }, doctor) : [];
      return {
        kind,
        file,
        ok: true,
        diagnostics: [...loaded.warnings, ...found],
        effective: renderManager(loaded.value),
        data: loaded.value,
      };
    }
    if (kind === "ext-prover") {
      const loaded = parseConfigText("ext-prover", text, file);
      const found = doctor ? runServiceDoctor({ kind, file, text, config: loaded.value }, doctor) : [];
      return {
        kind,
        file,
        ok: true,
        diagnostics: [...loaded.warnings, ...found],
        effective: renderExtProver(loaded.value),
        data: loaded.value,
      };
    }
    const loaded = parseConfigText("thread", text, file);
    return {
      kind,
      file,
      ok: true,
      diagnostics: loaded.warnings,
      data: loaded.value,
      effective: JSON.stringify(loaded.value, null, 2),
    };
  } catch (err) {
    if (err instanceof ConfigError) return { kind, file, ok: false, diagnostics: err.diagnostics };
    throw err;
  }
}

async function loadHotSafely(location: string, diagnostics: ConfigDiagnostic[]) {
  try {
    const hot = await loadThreadHotConfig(location);
    if (hot) diagnostics.push(...hot.warnings);
    return hot;
  } catch (err) {
    if (err instanceof ConfigError) {
      diagnostics.push(...err.diagnostics);
      return undefined;
    }
    throw err;
  }
}

function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}

const check = command({
  meta: {
    name: "check",
    description:
      "Validate a worker, manager or ext-prover configuration file and print the effective configuration (defaults applied, per-thread merge shown)",
  },
  args: {
    file: {
      type: "positional",
      description: "configuration file (worker .toml, sector-manager.cfg, ext-prover.cfg or a thread's config.toml)",
      required: true,
    },
    kind: {
      type: "enum",
      options: [...CONFIG_KINDS],
      description: "kind of file; guessed from the name or content when omitted",
    },
    json: { type: "boolean", description: "print the effective configuration and findings as JSON", default: false },
    quiet: { type: "boolean", description: "print only findings, not the effective configuration", default: false },
    sysfs: {
      type: "string",
      description:
        "judge a worker file against the CPU topology and GPU list under DIR (see util hwinfo --sysfs) instead of this machine's",
      valueHint: "DIR",
    },
    doctor: {
      type: "boolean",
      description:
        "check a worker file against the machine (cpusets, NUMA, GPUs, locks, paths, parameters, open files), a manager or ext-prover file against its open-file limit; --no-doctor checks the schema only",
      default: true,
    },
  },
  examples: [
    "damocles util config check /etc/damocles/worker.toml",
    "damocles util config check ~/.damocles-manager/sector-manager.cfg",
    "damocles util config check --kind ext-prover ./my-prover.cfg --json",
  ],
  async run({ args }) {
    const doctor = args.doctor ? (args.sysfs ? { sysfs: args.sysfs } : {}) : false;
    const report = await checkConfigFile(args.file, args.kind as ConfigKind | undefined, doctor);
    if (args.json) {
      process.stdout.write(`${JSON.stringify(report, jsonReplacer, 2)}\n`);
    } else {
      for (const d of report.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
      if (report.ok && report.effective && !args.quiet) {
        process.stdout.write(`# ${report.file}: valid ${report.kind} configuration\n${report.effective}\n`);
      }
    }
    if (!report.ok) {
      const n = report.diagnostics.filter((d) => d.severity === "error").length;
      throw new CliError(`${report.file}: ${n} error${n === 1 ? "" : "s"}; the file was not accepted`);
    }
  },
});

export const configCommand = command({
  meta: { name: "config", description: "Configuration tools" },
  subCommands: { check },
  examples: ["damocles util config check worker.toml"],
});
