import {
  type ConfigDiagnostic,
  displayPath,
  type ExtProverConfig,
  lineFor,
  type ManagerConfig,
} from "../../core/config/index.ts";
import { keyLines } from "../../core/config/toml.ts";
import { readOpenFileLimit } from "./probes.ts";
import { extProverOpenFilesRule, managerOpenFilesRule } from "./rules/open-files.ts";
import type { RunDoctorOptions } from "./run.ts";
import type { OpenFileLimit } from "./types.ts";

/**
 * The doctor for the files the manager and the poster read (sector-manager.cfg, ext-prover.cfg). What it
 * judges there is the machine's open-file limit, since WindowPoSt runs in those daemons by default; the
 * worker's hardware rules (cpusets, NUMA, GPUs) have nothing to judge in them.
 */
export type ServiceFile = { kind: "manager"; config: ManagerConfig } | { kind: "ext-prover"; config: ExtProverConfig };

export type ServiceFileInput = ServiceFile & {
  file: string;
  /** The file's text, for line numbers. */
  text?: string;
};

export type ServiceDoctorInput = ServiceFileInput & {
  /** This machine's limit; undefined: unknown, nothing is judged. */
  openFiles?: OpenFileLimit;
};

export function diagnoseServiceFile(input: ServiceDoctorInput): ConfigDiagnostic[] {
  const lines = input.text === undefined ? new Map<string, number>() : keyLines(input.text);
  const findings: ConfigDiagnostic[] = [];
  const warn = (keys: (string | number)[], message: string) => {
    const line = lineFor(lines, keys);
    findings.push({
      severity: "warning",
      file: input.file,
      ...(line !== undefined ? { line } : {}),
      path: displayPath(keys),
      message,
    });
  };
  if (input.kind === "manager") {
    managerOpenFilesRule(input.config, input.openFiles, warn, (keys) => lines.has(keys.map(String).join(".")));
  } else extProverOpenFilesRule(input.config, input.openFiles, warn);
  return findings;
}

/** With this machine's open-file limit (or the one in `opts`; null: not checked). */
export function runServiceDoctor(
  input: ServiceFileInput,
  opts: Pick<RunDoctorOptions, "openFiles"> = {},
): ConfigDiagnostic[] {
  const openFiles = opts.openFiles === null ? undefined : (opts.openFiles ?? readOpenFileLimit());
  return diagnoseServiceFile(openFiles ? { ...input, openFiles } : input);
}
