export { readTopology, type Topology, type CacheGroup, type Core, type NumaNode, type Package, type Pu } from "./topology.ts";
export { buildTree, renderTree, type TreeNode } from "./tree.ts";
export { planByNode, describePlan, formatGroupIndexes, type NodePlan } from "./plan.ts";
export { queryGpus, gpusFor, parseNvidiaSmiCsv, NVIDIA_SMI_ARGS, GPU_DUMP_FILE, type GpuInfo, type GpuReport } from "./gpus.ts";
export { readDisks, type DiskInfo, type DiskType } from "./disks.ts";
export { collectHwinfo, renderHwinfo, hwinfoJson, type HwReport } from "./report.ts";
export { formatSize } from "./format.ts";
