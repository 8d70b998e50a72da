import {
  type ConfigDiagnostic,
  displayPath,
  lineFor,
  type ProcessorConfig,
  parseCpuset,
  type WorkerConfig,
} from "../../core/config/index.ts";
import { keyLines } from "../../core/config/toml.ts";
import type { Topology } from "../hwinfo/topology.ts";
import type { DoctorFacts, DoctorInput } from "./types.ts";

type Keys = (string | number)[];

/** One `[[processors.<stage>]]` entry, with the names the findings use for it. */
export interface ProcessorRef {
  stage: string;
  index: number;
  proc: ProcessorConfig;
  keys: Keys;
  /** `processors.pc2[1]`, as findings name it. */
  name: string;
  /** Parsed `cgroup.cpuset`, when set. */
  cpus?: number[];
}

/** Shared state of one doctor run: the config, the machine, and the findings so far. */
export class DoctorContext {
  readonly findings: ConfigDiagnostic[] = [];
  readonly lines: Map<string, number>;
  readonly processors: ProcessorRef[];

  constructor(readonly input: DoctorInput) {
    this.lines = input.text === undefined ? new Map() : keyLines(input.text);
    this.processors = Object.entries(input.config.processors.stages).flatMap(([stage, list]) =>
      list.map((proc, index) => {
        const cpus = proc.cgroup?.cpuset === undefined ? undefined : parseCpuset(proc.cgroup.cpuset);
        return {
          stage,
          index,
          proc,
          keys: ["processors", stage, index],
          name: `processors.${stage}[${index}]`,
          ...(cpus ? { cpus } : {}),
        };
      }),
    );
  }

  get config(): WorkerConfig {
    return this.input.config;
  }

  get facts(): DoctorFacts {
    return this.input.facts;
  }

  /** The topology when it has PUs; CPU rules do nothing without one. */
  get topology(): Topology | undefined {
    const t = this.input.facts.topology;
    return t && t.pus.length > 0 ? t : undefined;
  }

  error(keys: Keys, message: string): void {
    this.report("error", keys, message);
  }

  warn(keys: Keys, message: string): void {
    this.report("warning", keys, message);
  }

  has(keys: Keys): boolean {
    return this.lines.has(keys.map(String).join("."));
  }

  private report(severity: ConfigDiagnostic["severity"], keys: Keys, message: string): void {
    const line = lineFor(this.lines, keys);
    this.findings.push({
      severity,
      file: this.input.file,
      ...(line !== undefined ? { line } : {}),
      path: displayPath(keys),
      message,
    });
  }
}

export function envOf(proc: ProcessorConfig, name: string): string | undefined {
  return proc.envs?.[name];
}

/** How rust-fil-proofs' settings read a boolean from the environment. */
export function truthyEnv(value: string | undefined): boolean {
  return value !== undefined && /^(1|true|yes|on)$/i.test(value.trim());
}

/** `"a", "b" and "c"` for messages. */
export function listWords(items: readonly string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}
