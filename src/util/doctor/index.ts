/**
 * The config doctor: rules that check a worker config against the machine it runs on (CPU topology under
 * multicore SDR, NUMA placement, GPUs, locks, cpusets, paths, proof parameters, open files), and manager,
 * poster and ext-prover files against its open-file limit (services.ts), each finding with the symptom it
 * prevents and the fix. `util config check` is its command.
 */

export { diagnoseWorker, RULES, type Rule } from "./diagnose.ts";
export { parseLimits, readOpenFileLimit, realFsProbe, scanParamDir } from "./probes.ts";
export { proofsParamCheck } from "./proofs-params.ts";
export { isRemoteProxy } from "./proxy.ts";
export { MIN_OPEN_FILES } from "./rules/open-files.ts";
export { circuitsFor, defaultParamDir, gatherFacts, paramDirs, type RunDoctorOptions, runDoctor } from "./run.ts";
export { analyzeSdrCpuset, type SdrAnalysis, type SdrGroup, sdrFixes } from "./sdr.ts";
export { diagnoseServiceFile, runServiceDoctor, type ServiceDoctorInput, type ServiceFile } from "./services.ts";
export type {
  DoctorFacts,
  DoctorInput,
  FsProbe,
  OpenFileLimit,
  ParamCheck,
  ParamFileStatus,
  ParamReport,
  ParamStatus,
  PathKind,
} from "./types.ts";
