export { diagnoseWorker, RULES, type Rule } from "./diagnose.ts";
export { runDoctor, gatherFacts, paramDirs, defaultParamDir, circuitsFor, type RunDoctorOptions } from "./run.ts";
export { proofsParamCheck } from "./proofs-params.ts";
export { realFsProbe, readOpenFileLimit, parseLimits, scanParamDir } from "./probes.ts";
export { analyzeSdrCpuset, sdrFixes, type SdrAnalysis, type SdrGroup } from "./sdr.ts";
export { isRemoteProxy } from "./proxy.ts";
export { MIN_OPEN_FILES } from "./rules/open-files.ts";
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
