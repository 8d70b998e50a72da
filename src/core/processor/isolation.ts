import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { launcherPrefix } from "./launcher.ts";

/**
 * CPU and memory placement for a processor child: `cgroup.cpuset` through a cgroup (v2, or the v1 cpuset
 * hierarchy) where this process may create one, otherwise CPU affinity with taskset; `numa_preferred`
 * through damocles' own launcher (set_mempolicy, then exec: launcher.ts; numactl is not needed), and always
 * the VENUS_WORKER_NUMA_PREFERRED env the original passes. The child is moved into its cgroup by a tiny
 * shell wrapper before it execs, so it never runs unconfined.
 */
export type CpuBinding = "cgroup-v2" | "cgroup-v1" | "affinity" | "none";

export interface Placement {
  /** Command prefix to put before the processor's own command. */
  prefix: string[];
  env: Record<string, string>;
  binding: CpuBinding;
  /** Human description for the log line ("cpuset 0-3 via cgroup v2 /sys/fs/cgroup/vc-worker/sub-pc1-12-0"). */
  description: string;
  /** Removes the cgroup after the child has exited. */
  cleanup(): void;
}

export interface PlacementRequest {
  stage: string;
  index: number;
  cpuset?: string;
  groupName: string;
  numaPreferred?: number;
  cgroupRoot?: string;
  /** How to run damocles itself for the placement launcher (default: this program, see core/self.ts). */
  self?: readonly string[];
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function which(cmd: string): string | undefined {
  return Bun.which(cmd) ?? undefined;
}

const moveSelf = (procsFile: string) => ["sh", "-c", `echo $$ > "${procsFile}" && exec "$@"`, "damocles-cgroup"];

function cgroupV2(root: string, req: PlacementRequest, cpuset: string, leaf: string): Placement | undefined {
  const controllers = join(root, "cgroup.controllers");
  if (!existsSync(controllers) || !readFileSync(controllers, "utf8").split(/\s+/).includes("cpuset") || !writable(root))
    return undefined;
  try {
    const group = join(root, req.groupName);
    mkdirSync(group, { recursive: true });
    for (const dir of [root, group]) {
      const ctl = join(dir, "cgroup.subtree_control");
      if (!readFileSync(ctl, "utf8").includes("cpuset")) writeFileSync(ctl, "+cpuset");
    }
    const dir = join(group, leaf);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "cpuset.cpus"), cpuset);
    return {
      prefix: moveSelf(join(dir, "cgroup.procs")),
      env: {},
      binding: "cgroup-v2",
      description: `cpuset ${cpuset} via cgroup v2 ${dir}`,
      cleanup: () => removeDir(dir),
    };
  } catch {
    return undefined;
  }
}

function cgroupV1(root: string, req: PlacementRequest, cpuset: string, leaf: string): Placement | undefined {
  const hierarchy = join(root, "cpuset");
  if (!existsSync(join(hierarchy, "cpuset.cpus")) || !writable(hierarchy)) return undefined;
  try {
    const group = join(hierarchy, req.groupName);
    const dir = join(group, leaf);
    for (const d of [group, dir]) {
      if (!existsSync(d)) mkdirSync(d);
      // A v1 cpuset group accepts no task until both cpus and mems are set; inherit mems from the parent.
      const parentMems = readFileSync(join(d, "..", "cpuset.mems"), "utf8").trim();
      if (readFileSync(join(d, "cpuset.mems"), "utf8").trim() === "") writeFileSync(join(d, "cpuset.mems"), parentMems);
      if (d === group && readFileSync(join(d, "cpuset.cpus"), "utf8").trim() === "") {
        writeFileSync(join(d, "cpuset.cpus"), readFileSync(join(hierarchy, "cpuset.cpus"), "utf8").trim());
      }
    }
    writeFileSync(join(dir, "cpuset.cpus"), cpuset);
    return {
      prefix: moveSelf(join(dir, "cgroup.procs")),
      env: {},
      binding: "cgroup-v1",
      description: `cpuset ${cpuset} via cgroup v1 ${dir}`,
      cleanup: () => removeDir(dir),
    };
  } catch {
    return undefined;
  }
}

function removeDir(dir: string) {
  try {
    rmdirSync(dir);
  } catch {
    // Still has tasks (a grandchild lingering) or already gone: nothing to do now.
  }
}

export function placeProcessor(req: PlacementRequest): Placement {
  const env: Record<string, string> = {};
  const numaPrefix: string[] = [];
  const notes: string[] = [];
  if (req.numaPreferred !== undefined) {
    env.VENUS_WORKER_NUMA_PREFERRED = String(req.numaPreferred);
    numaPrefix.push(...launcherPrefix(req.numaPreferred, req.self));
    notes.push(`memory prefers NUMA node ${req.numaPreferred} (set_mempolicy before exec)`);
  }
  const none = (desc: string): Placement => ({
    prefix: numaPrefix,
    env,
    binding: "none",
    description: [desc, ...notes].join("; "),
    cleanup: () => {},
  });
  if (!req.cpuset) return none("no cpuset");
  const leaf = `sub-${req.stage}-${process.pid}-${req.index}`;
  const root = req.cgroupRoot ?? "/sys/fs/cgroup";
  const viaCgroup = cgroupV2(root, req, req.cpuset, leaf) ?? cgroupV1(root, req, req.cpuset, leaf);
  if (viaCgroup) {
    return {
      ...viaCgroup,
      prefix: [...viaCgroup.prefix, ...numaPrefix],
      env,
      description: [viaCgroup.description, ...notes].join("; "),
    };
  }
  const taskset = which("taskset");
  if (taskset) {
    return {
      prefix: [taskset, "-c", req.cpuset, ...numaPrefix],
      env,
      binding: "affinity",
      description: [
        `cpuset ${req.cpuset} via CPU affinity (taskset; no writable cgroup cpuset controller)`,
        ...notes,
      ].join("; "),
      cleanup: () => {},
    };
  }
  return none(`cpuset ${req.cpuset} NOT applied: no writable cgroup and no taskset`);
}
