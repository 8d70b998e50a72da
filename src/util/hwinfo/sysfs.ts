import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseCpuset } from "../../core/config/fields.ts";

/**
 * Read-only access to a sysfs-like tree. Every read is tolerant: a missing or unreadable file is
 * `undefined`, never an exception, because containers and dumps routinely lack parts of /sys and
 * hwinfo must still say what it could read.
 */
export class SysfsReader {
  constructor(readonly root: string) {}

  path(rel: string): string {
    return join(this.root, rel);
  }

  text(rel: string): string | undefined {
    try {
      return readFileSync(this.path(rel), "utf8").trim();
    } catch {
      return undefined;
    }
  }

  int(rel: string): number | undefined {
    const t = this.text(rel);
    if (t === undefined || !/^-?\d+$/.test(t)) return undefined;
    return Number(t);
  }

  /** A kernel cpu list ("0-3,8"); an empty file is an empty list. */
  cpuList(rel: string): number[] | undefined {
    const t = this.text(rel);
    if (t === undefined) return undefined;
    if (t === "") return [];
    return parseCpuset(t);
  }

  /** Entries of a directory whose names match `pattern`, with the first capture as a number. */
  numberedDirs(rel: string, pattern: RegExp): { name: string; n: number }[] {
    let names: string[];
    try {
      names = readdirSync(this.path(rel));
    } catch {
      return [];
    }
    const out: { name: string; n: number }[] = [];
    for (const name of names) {
      const m = pattern.exec(name);
      if (m?.[1] !== undefined) out.push({ name, n: Number(m[1]) });
    }
    return out.sort((a, b) => a.n - b.n);
  }

  entries(rel: string): string[] {
    try {
      return readdirSync(this.path(rel)).sort();
    } catch {
      return [];
    }
  }
}

/** "32768K" / "16M" / "512" (sysfs cache sizes) → bytes. */
export function parseSysfsSize(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d+)\s*([KMG]?)$/i.exec(text.trim());
  if (!m) return undefined;
  const mult = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 }[m[2]!.toUpperCase() as "" | "K" | "M" | "G"];
  return Number(m[1]) * mult;
}

/** `meminfo` lines ("Node 0 MemTotal:  5597396 kB" or "MemTotal: 5597396 kB") → bytes by field name. */
export function parseMeminfo(text: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  if (!text) return out;
  for (const line of text.split("\n")) {
    const m = /^(?:Node\s+\d+\s+)?(\w+):\s+(\d+)(?:\s*kB)?\s*$/.exec(line.trim());
    if (m) out[m[1]!] = Number(m[2]) * (line.includes("kB") ? 1024 : 1);
  }
  return out;
}
