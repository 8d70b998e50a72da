/**
 * Hardware facts for planning sealing threads: CPU topology from sysfs (NUMA nodes, L3 groups, cores,
 * PUs), GPUs via nvidia-smi, disks and memory. `util hwinfo` prints them; the doctor reasons over them.
 */

export { type DiskInfo, type DiskType, readDisks } from "./disks.ts";
export { formatSize } from "./format.ts";
export {
  GPU_DUMP_FILE,
  type GpuInfo,
  type GpuReport,
  gpusFor,
  NVIDIA_SMI_ARGS,
  parseNvidiaSmiCsv,
  queryGpus,
} from "./gpus.ts";
export { describePlan, formatGroupIndexes, type NodePlan, planByNode } from "./plan.ts";
export { collectHwinfo, type HwReport, hwinfoJson, renderHwinfo } from "./report.ts";
export {
  type CacheGroup,
  type Core,
  type NumaNode,
  type Package,
  type Pu,
  readTopology,
  type Topology,
} from "./topology.ts";
export { buildTree, renderTree, type TreeNode } from "./tree.ts";
