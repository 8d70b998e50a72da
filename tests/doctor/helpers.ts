import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type ConfigDiagnostic,
  parseConfigText,
  resolveWorkerConfig,
  type WorkerConfig,
} from "../../src/core/config/index.ts";
import { type DoctorFacts, diagnoseWorker, type FsProbe, type PathKind } from "../../src/util/doctor/index.ts";
import { parseNvidiaSmiCsv } from "../../src/util/hwinfo/gpus.ts";
import { readTopology } from "../../src/util/hwinfo/topology.ts";
import { FIXTURES, type FixtureSpec, writeSysfsFixture } from "../fixtures/sysfs/generate.ts";

/** Fixture sysfs trees generated into one temp dir per test file (call cleanup in afterAll). */
export function sysfsFixtures() {
  const root = mkdtempSync(join(tmpdir(), "damocles-sysfs-"));
  const made = new Map<string, string>();
  return {
    root,
    path(name: keyof typeof FIXTURES | (string & {}), spec?: FixtureSpec): string {
      const existing = made.get(name);
      if (existing) return existing;
      const s = spec ?? FIXTURES[name];
      if (!s) throw new Error(`no fixture spec ${name}`);
      const p = writeSysfsFixture(join(root, name), s);
      made.set(name, p);
      return p;
    },
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

export const MANAGER = '[sector_manager]\nrpc_client.addr = "/ip4/127.0.0.1/tcp/1789"\n';

export function loadWorker(text: string, file = "worker.toml"): { config: WorkerConfig; warnings: ConfigDiagnostic[] } {
  const loaded = parseConfigText("worker", text, file);
  return { config: resolveWorkerConfig(loaded.value), warnings: loaded.warnings };
}

/** A filesystem where only the listed paths exist; `exec` entries are executable files. */
export function fakeFs(entries: Record<string, PathKind | "exec"> = {}, onPath: string[] = []): FsProbe {
  return {
    kind: (p) => {
      const e = entries[p];
      return e === undefined ? "missing" : e === "exec" ? "file" : e;
    },
    executable: (p) => entries[p] === "exec",
    which: (name) => (onPath.includes(name) ? `/usr/bin/${name}` : undefined),
    home: () => "/home/op",
    cwd: () => "/work",
  };
}

export interface DiagnoseOptions {
  sysfs?: string;
  gpus?: string;
  facts?: Partial<DoctorFacts>;
  file?: string;
}

/** Load `text` and run the doctor against a fixture machine; paths all missing unless `facts.fs` says otherwise. */
export function diagnose(text: string, opts: DiagnoseOptions = {}): ConfigDiagnostic[] {
  const file = opts.file ?? "worker.toml";
  const { config } = loadWorker(text, file);
  const facts: DoctorFacts = {
    topology: opts.sysfs ? readTopology(opts.sysfs) : undefined,
    gpus: opts.gpus === undefined ? undefined : parseNvidiaSmiCsv(opts.gpus),
    machine: opts.sysfs ? `the machine in ${opts.sysfs}` : "this machine",
    fs: fakeFs(),
    ...opts.facts,
  };
  return diagnoseWorker({ file, text, config, facts });
}

export const errors = (ds: ConfigDiagnostic[]) => ds.filter((d) => d.severity === "error");
export const warnings = (ds: ConfigDiagnostic[]) => ds.filter((d) => d.severity === "warning");
export const at = (ds: ConfigDiagnostic[], path: string) => ds.filter((d) => d.path === path);

export const TWO_GPUS = "0, NVIDIA GeForce RTX 3090, 24576\n1, NVIDIA GeForce RTX 3090, 24576\n";
export const ONE_GPU = "0, NVIDIA GeForce RTX 3090, 24576\n";
