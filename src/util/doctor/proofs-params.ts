import { type Circuit, inspectParams } from "../../core/proofs/params.ts";
import type { ParamCheck, ParamFileStatus } from "./types.ts";

/** Sizes damocles can generate parameters for locally (devnets); bigger ones come from the published set. */
const LOCAL_MAX = 512 * 1024 ** 2;

/**
 * Rule 6's parameter check backed by the proofs module: the exact files each circuit of each size
 * needs, with their state. Returns undefined when the proofs addon cannot be loaded (not built on this
 * machine), so the doctor falls back to scanning the directory.
 */
export const proofsParamCheck: ParamCheck = async ({ cacheDir, sectorSizes, circuits }) => {
  const out: ParamFileStatus[] = [];
  try {
    for (const size of sectorSizes) {
      const report = await inspectParams(size, { dir: cacheDir, circuits: circuits as Circuit[] });
      for (const c of report.circuits) {
        for (const f of c.files) {
          if (!f.required) continue;
          out.push({
            file: f.name,
            status: f.status,
            sectorSize: size,
            circuit: c.circuit,
            actualBytes: f.size,
            ...(f.expectedSize !== undefined ? { expectedBytes: f.expectedSize } : {}),
            ...(f.detail ? { detail: f.detail } : {}),
            ...(report.fix && size <= LOCAL_MAX ? { fix: report.fix } : {}),
          });
        }
      }
    }
  } catch {
    return undefined;
  }
  return out;
};
