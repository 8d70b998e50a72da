import { existsSync } from "node:fs";
import { join } from "node:path";
import { CliError, command } from "../../core/cli/command.ts";
import { collectHwinfo, hwinfoJson, renderHwinfo } from "./report.ts";

export const hwinfoCommand = command({
  meta: {
    name: "hwinfo",
    description:
      "Show the CPU topology (packages, NUMA nodes, L3 groups, PUs), GPUs, disks and memory, to plan cgroup.cpuset and GPU assignments",
  },
  args: {
    full: { type: "boolean", description: "also show L2, L1d and cores, and every mount of each disk", default: false },
    json: { type: "boolean", description: "print everything as one JSON document", default: false },
    sysfs: {
      type: "string",
      description:
        "read DIR/devices/system/{cpu,node} and DIR/block instead of /sys (a dump of another machine; DIR/nvidia-smi.csv, DIR/cpuinfo and DIR/meminfo are read when present)",
      valueHint: "DIR",
    },
  },
  examples: [
    "damocles util hwinfo",
    "damocles util hwinfo --full",
    "damocles util hwinfo --json > hw.json",
    "damocles util hwinfo --sysfs ./dump-of-node-07",
  ],
  run({ args }) {
    const sysfs = args.sysfs as string | undefined;
    if (sysfs !== undefined && !existsSync(join(sysfs, "devices/system/cpu"))) {
      throw new CliError(
        `--sysfs ${sysfs}: ${join(sysfs, "devices/system/cpu")} does not exist (DIR must hold devices/system/cpu/…)`,
        2,
      );
    }
    const report = collectHwinfo(sysfs !== undefined ? { sysfs } : {});
    if (args.json) process.stdout.write(`${JSON.stringify(hwinfoJson(report, { full: args.full }), null, 2)}\n`);
    else process.stdout.write(renderHwinfo(report, { full: args.full }));
  },
});
