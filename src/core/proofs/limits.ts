import type { ConsolaInstance } from "consola";
import { native } from "./native.ts";

export interface OpenFilesLimit {
  /** The soft limit in force now; Infinity when unlimited. */
  soft: number;
  hard: number;
  /** The soft limit before the call. */
  before: number;
}

const show = (n: number) => (Number.isFinite(n) ? String(n) : "unlimited");

/**
 * Raises this process's soft open-files limit to its hard limit (seed 000's "Too many open files": a
 * sealing or proving process holds tree files, parent caches and parameters open at once). Every daemon
 * and processor child calls it at start and logs the limit in force. A failure (or an addon that was never
 * built, on a machine that only runs util commands) leaves the limit as it is, with a warning.
 */
export function raiseOpenFilesLimit(log: ConsolaInstance): OpenFilesLimit | undefined {
  let lim: OpenFilesLimit;
  try {
    lim = native().raiseOpenFilesLimit();
  } catch (err) {
    log.warn(`open files limit left as it is: ${(err as Error).message}`);
    return undefined;
  }
  log.info(
    lim.soft > lim.before
      ? `open files limit raised from ${show(lim.before)} to ${show(lim.soft)} (hard limit ${show(lim.hard)})`
      : `open files limit ${show(lim.soft)} (hard limit ${show(lim.hard)})`,
  );
  return lim;
}
