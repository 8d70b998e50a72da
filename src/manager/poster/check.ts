import { open, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import type { PoStReplica } from "../prover.ts";

/**
 * Whether a replica can be proven before a PoSt is attempted (the original's CheckProvable): the sealed
 * file has the sector's size and can be read at both ends, the cache holds p_aux and tree-r-last, and in
 * strict mode a real vanilla proof is generated for the deadline's challenges (it reads the challenged
 * nodes and tree paths, which a truncated or corrupted replica fails). Each check is bounded by a timeout
 * so one hung disk cannot stall a deadline.
 */

export interface CheckOptions {
  sectorSize: number;
  timeoutMs: number;
  /** Generate a vanilla proof (slow path); needs `vanilla`. */
  strict: boolean;
  vanilla?: (replica: PoStReplica) => Promise<void>;
}

/** Returns undefined when provable, else the reason. */
export async function checkReplica(replica: PoStReplica, opts: CheckOptions): Promise<string | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(
      () => resolve(`check timed out after ${opts.timeoutMs} ms (slow or hung storage?)`),
      opts.timeoutMs,
    );
  });
  try {
    return await Promise.race([runChecks(replica, opts), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function runChecks(r: PoStReplica, opts: CheckOptions): Promise<string | undefined> {
  let size: number;
  try {
    size = (await stat(r.sealedPath)).size;
  } catch {
    return `sealed file ${r.sealedPath} is missing`;
  }
  if (size !== opts.sectorSize) return `sealed file ${r.sealedPath} has ${size} bytes, expected ${opts.sectorSize}`;
  try {
    const fh = await open(r.sealedPath, "r");
    try {
      const buf = new Uint8Array(32);
      await fh.read(buf, 0, 32, 0);
      await fh.read(buf, 0, 32, size - 32);
    } finally {
      await fh.close();
    }
  } catch (err) {
    return `sealed file ${r.sealedPath} cannot be read: ${(err as Error).message}`;
  }
  let entries: string[];
  try {
    entries = await readdir(r.cacheDir);
  } catch {
    return `cache dir ${r.cacheDir} is missing`;
  }
  if (!entries.includes("p_aux")) return `cache dir ${r.cacheDir} has no p_aux`;
  if (!entries.some((e) => e.includes("tree-r-last"))) return `cache dir ${r.cacheDir} has no tree-r-last file`;
  for (const e of entries.filter((n) => n.includes("tree-r-last"))) {
    if ((await stat(join(r.cacheDir, e))).size === 0) return `${join(r.cacheDir, e)} is empty`;
  }
  if (opts.strict && opts.vanilla) {
    try {
      await opts.vanilla(r);
    } catch (err) {
      return `vanilla proof failed: ${(err as Error).message}`;
    }
  }
  return undefined;
}
