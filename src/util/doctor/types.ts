import type { ConfigDiagnostic, WorkerConfig } from "../../core/config/index.ts";
import type { GpuInfo } from "../hwinfo/gpus.ts";
import type { Topology } from "../hwinfo/topology.ts";

/**
 * What the doctor judges: a loaded worker configuration plus facts about the machine it will run on.
 * Facts are gathered elsewhere (run.ts) so every rule is a pure function that tests can feed directly.
 */

export type PathKind = "missing" | "file" | "dir" | "other";

export interface FsProbe {
  kind(path: string): PathKind;
  executable(path: string): boolean;
  /** A bare command name as the worker's spawn would find it on PATH. */
  which(name: string): string | undefined;
  /** For `~/…` paths. */
  home(): string;
  /** Relative paths are resolved against the directory the worker is started in. */
  cwd(): string;
}

export interface OpenFileLimit {
  /** Infinity for "unlimited". */
  soft: number;
  hard: number;
}

/** As the proofs module reports files; "corrupt" = wrong content (hash or header mismatch). */
export type ParamStatus = "present" | "missing" | "empty" | "truncated" | "corrupt";

export interface ParamFileStatus {
  /** File name (or, for a missing directory, the directory itself). */
  file: string;
  status: ParamStatus;
  sectorSize?: number;
  /** The proofs module's circuit name: porep, winning-post, window-post, empty-sector-update. */
  circuit?: string;
  expectedBytes?: number;
  actualBytes?: number;
  detail?: string;
  /** The command that repairs it, when the check knows one. */
  fix?: string;
}

export interface ParamReport {
  cacheDir: string;
  /** Where the directory came from, e.g. "FIL_PROOFS_PARAMETER_CACHE in processors.c2[0].envs" or "default". */
  origin: string;
  /** Key path that chose this directory (an `envs` entry), when a processor did. */
  keys?: (string | number)[];
  files: ParamFileStatus[];
  /**
   * true: files were compared with the expected list for each sector size;
   * false: only the directory was inspected (missing, empty, zero-length files).
   */
  exact: boolean;
}

/**
 * A per-size parameter check (the proofs module's, see proofs-params.ts), injected so the rule is testable
 * without it. Undefined: the check is unavailable here, and the directory is only scanned.
 */
export type ParamCheck = (req: {
  cacheDir: string;
  sectorSizes: number[];
  /** The circuits this worker proves with (proofs module names). */
  circuits: string[];
}) => Promise<ParamFileStatus[] | undefined> | ParamFileStatus[] | undefined;

export interface DoctorFacts {
  /** Undefined when the machine could not be read at all; CPU rules are then skipped with one warning. */
  topology: Topology | undefined;
  /** Undefined: not known (no nvidia-smi, dump without a GPU list). */
  gpus: GpuInfo[] | undefined;
  /** Words for the machine in messages: "this machine" or "the machine in DIR". */
  machine: string;
  openFiles?: OpenFileLimit;
  /** Undefined: not checked. */
  params?: ParamReport[];
  fs: FsProbe;
}

export interface DoctorInput {
  file: string;
  /** The file's text, for line numbers (optional: findings then carry only key paths). */
  text?: string;
  config: WorkerConfig;
  facts: DoctorFacts;
}

export type { ConfigDiagnostic };
