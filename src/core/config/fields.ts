import * as v from "valibot";
import { publishedSectorSize, SECTOR_SIZES } from "../sector/proof.ts";
import { parseBytes, parseDuration, parseFil } from "./units.ts";

/**
 * Field builders shared by every config schema. Each message says what is expected; the formatter
 * (issues.ts) appends the key path, the line and the value that was found.
 */

export const nonNegativeInt = (what = "a non-negative integer") =>
  v.pipe(v.number(`expected ${what}`), v.integer(`expected ${what}`), v.minValue(0, `expected ${what}`));

export const positiveInt = (what = "a positive integer") =>
  v.pipe(v.number(`expected ${what}`), v.integer(`expected ${what}`), v.minValue(1, `expected ${what}`));

/** A TCP port; 0 (when allowed) means any free port, which tests and demos use. */
export const port = (opts: { allowZero?: boolean } = {}) => {
  const msg = `expected a TCP port number (${opts.allowZero ? 0 : 1}-65535)`;
  return v.pipe(v.number(msg), v.integer(msg), v.minValue(opts.allowZero ? 0 : 1, msg), v.maxValue(65535, msg));
};

export const bool = () => v.boolean("expected true or false");

export const str = (what = "a string") => v.string(`expected ${what}`);

export const nonEmptyStr = (what = "a non-empty string") =>
  v.pipe(v.string(`expected ${what}`), v.trim(), v.minLength(1, `expected ${what}`));

export const stringList = (what = "a list of strings") => v.array(v.string(`expected ${what}`), `expected ${what}`);

export const stringMap = (what = "a table of string values") =>
  v.record(v.string(), v.string(`expected ${what}`), `expected ${what}`);

/** Durations are milliseconds after parsing; TOML integers are taken as seconds, as Go's config loaders do. */
export const duration = () =>
  v.pipe(
    v.union([v.string(), v.number()], 'expected a duration like "30s", "5min" or "1m0s"'),
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      const raw = dataset.value;
      const ms = typeof raw === "number" ? raw * 1000 : parseDuration(raw);
      if (ms === undefined || !Number.isFinite(ms) || ms < 0) {
        addIssue({ message: 'expected a duration like "30s", "5min" or "1m0s"' });
        return NEVER;
      }
      return ms;
    }),
  );

/** Byte sizes are numbers of bytes after parsing ("8GiB" → 8589934592). */
export const byteSize = () =>
  v.pipe(
    v.union([v.string(), v.number()], 'expected a size like "2KiB", "512MiB" or "32GiB"'),
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      const raw = dataset.value;
      const bytes = typeof raw === "number" ? raw : parseBytes(raw);
      if (bytes === undefined || !Number.isSafeInteger(bytes) || bytes < 0) {
        addIssue({ message: 'expected a size like "2KiB", "512MiB" or "32GiB"' });
        return NEVER;
      }
      return bytes;
    }),
  );

/** The sector sizes the proofs library has parameters for (one table, in core/sector). */
export { publishedSectorSize as sectorSizeName, SECTOR_SIZES, type SectorSizeName } from "../sector/proof.ts";

const SECTOR_SIZE_LIST = Object.keys(SECTOR_SIZES).join(", ");

export const sectorSize = () =>
  v.pipe(
    byteSize(),
    v.check((b) => publishedSectorSize(b) !== undefined, `expected a sector size (one of ${SECTOR_SIZE_LIST})`),
  );

/** FIL amounts are attoFIL as bigint after parsing ("5 nanoFIL" → 5000000000n). */
export const filAmount = () =>
  v.pipe(
    v.union([v.string(), v.number()], 'expected a FIL amount like "5 nanoFIL" or "0.1 FIL"'),
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      const atto = parseFil(String(dataset.value));
      if (atto === undefined) {
        addIssue({ message: 'expected a FIL amount like "5 nanoFIL" or "0.1 FIL"' });
        return NEVER;
      }
      return atto;
    }),
  );

/** "0-3,8,10-11" → [0,1,2,3,8,10,11]; undefined when the syntax is not a cgroup cpuset list. */
export function parseCpuset(text: string): number[] | undefined {
  const cpus = new Set<number>();
  const trimmed = text.trim();
  if (trimmed === "") return undefined;
  for (const part of trimmed.split(",")) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    if (!m) return undefined;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) return undefined;
    for (let c = lo; c <= hi; c++) cpus.add(c);
  }
  return [...cpus].sort((a, b) => a - b);
}

/** [0,1,2,3,8] → "0-3,8": the canonical form, used when suggesting a corrected cpuset. */
export function formatCpuset(cpus: readonly number[]): string {
  const sorted = [...new Set(cpus)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}

export const cpuset = () =>
  v.pipe(
    v.string('expected a cpuset like "0-7" or "2,5,8-11"'),
    v.check((s) => parseCpuset(s) !== undefined, 'expected a cpuset like "0-7" or "2,5,8-11"'),
  );

/**
 * The manager address a worker dials: a multiaddr (/ip4/…/tcp/…[/http|/https], /dns/…) or a URL.
 * Normalised to the JSON-RPC endpoint URL, e.g. "http://127.0.0.1:1789/rpc/v0".
 */
export function parseRpcAddr(text: string): string | undefined {
  const s = text.trim();
  if (s.startsWith("/")) {
    const parts = s.split("/").slice(1);
    const [proto, host, tcp, portText, scheme] = parts;
    if (tcp !== "tcp" || !portText || !/^\d+$/.test(portText) || !host) return undefined;
    const portNum = Number(portText);
    if (portNum < 1 || portNum > 65535) return undefined;
    if (parts.length > 5) return undefined;
    if (scheme !== undefined && scheme !== "http" && scheme !== "https" && scheme !== "ws" && scheme !== "wss")
      return undefined;
    let hostPart: string;
    if (proto === "ip4") {
      if (!isIPv4(host)) return undefined;
      hostPart = host;
    } else if (proto === "ip6") {
      hostPart = `[${host}]`;
    } else if (proto === "dns" || proto === "dns4" || proto === "dns6") {
      if (!/^[A-Za-z0-9.-]+$/.test(host)) return undefined;
      hostPart = host;
    } else return undefined;
    const httpScheme = scheme === "https" || scheme === "wss" ? "https" : "http";
    return `${httpScheme}://${hostPart}:${portNum}/rpc/v0`;
  }
  try {
    const url = new URL(s);
    if (!["http:", "https:", "ws:", "wss:"].includes(url.protocol)) return undefined;
    const scheme = url.protocol === "https:" || url.protocol === "wss:" ? "https" : "http";
    const path = url.pathname === "/" || url.pathname === "" ? "/rpc/v0" : url.pathname;
    return `${scheme}://${url.host}${path}`;
  } catch {
    return undefined;
  }
}

function isIPv4(s: string): boolean {
  const parts = s.split(".");
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

export const rpcAddr = () =>
  v.pipe(
    v.string('expected a multiaddr like "/ip4/127.0.0.1/tcp/1789" or a URL like "http://127.0.0.1:1789"'),
    v.check(
      (s) => parseRpcAddr(s) !== undefined,
      'expected a multiaddr like "/ip4/127.0.0.1/tcp/1789" or a URL like "http://127.0.0.1:1789"',
    ),
  );

/** "host:port" or ":port" as --listen and http_listen take them. */
export function parseListenAddr(text: string): { host: string; port: number } | undefined {
  const m = /^(.*):(\d+)$/.exec(text.trim());
  if (!m) return undefined;
  const p = Number(m[2]);
  if (p < 0 || p > 65535) return undefined;
  const host = m[1]!.replace(/^\[(.*)\]$/, "$1");
  return { host: host === "" ? "0.0.0.0" : host, port: p };
}

export const listenAddr = () =>
  v.pipe(
    v.string('expected a listen address like "0.0.0.0:9000" or ":1789"'),
    v.check((s) => parseListenAddr(s) !== undefined, 'expected a listen address like "0.0.0.0:9000" or ":1789"'),
  );
