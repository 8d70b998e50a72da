import type * as v from "valibot";

export type Severity = "error" | "warning";

/** One finding about a config file, printed as `file:line path: message`. */
export interface ConfigDiagnostic {
  severity: Severity;
  file: string;
  line?: number;
  /** Human path, e.g. `processors.pc1[0].cgroup.cpuset`. */
  path: string;
  message: string;
}

export function formatDiagnostic(d: ConfigDiagnostic): string {
  const where = d.line === undefined ? d.file : `${d.file}:${d.line}`;
  const prefix = d.severity === "warning" ? "warning: " : "";
  return d.path ? `${prefix}${where} ${d.path}: ${d.message}` : `${prefix}${where}: ${d.message}`;
}

export class ConfigError extends Error {
  constructor(readonly diagnostics: ConfigDiagnostic[]) {
    super(diagnostics.map(formatDiagnostic).join("\n"));
    this.name = "ConfigError";
  }
}

/** `["processors","pc1",0,"cgroup"]` → `processors.pc1[0].cgroup` for people… */
export function displayPath(keys: readonly (string | number)[]): string {
  return keys.reduce<string>((acc, k) => {
    if (typeof k === "number") return `${acc}[${k}]`;
    const part = /^[A-Za-z0-9_-]+$/.test(k) ? k : JSON.stringify(k);
    return acc === "" ? part : `${acc}.${part}`;
  }, "");
}

/** …and `processors.pc1.0.cgroup` for the line index. */
export function lineKey(keys: readonly (string | number)[]): string {
  return keys.map(String).join(".");
}

export function lineFor(lines: Map<string, number>, keys: readonly (string | number)[]): number | undefined {
  // A missing key has no line of its own: point at the closest enclosing table that exists.
  for (let n = keys.length; n > 0; n--) {
    const line = lines.get(lineKey(keys.slice(0, n)));
    if (line !== undefined) return line;
  }
  return undefined;
}

function describeValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}`;
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a table";
  return String(value);
}

/** Turns valibot issues into diagnostics that name the key path, line, value and expectation. */
export function issuesToDiagnostics(
  issues: readonly v.BaseIssue<unknown>[],
  file: string,
  lines: Map<string, number>,
  basePath: readonly (string | number)[] = [],
): ConfigDiagnostic[] {
  const out: ConfigDiagnostic[] = [];
  const seen = new Set<string>();
  for (const issue of issues) {
    const keys = [...basePath, ...(issue.path ?? []).map((p) => p.key as string | number)];
    const last = issue.path?.at(-1);
    const missing = last?.origin === "key" && issue.input === undefined;
    const message = missing
      ? "required key is missing"
      : `${issue.message.replace(/^Invalid \w+: /, "")}, got ${describeValue(issue.input)}`;
    const diag: ConfigDiagnostic = {
      severity: "error",
      file,
      line: lineFor(lines, keys),
      path: displayPath(keys),
      message,
    };
    const id = `${diag.path}|${diag.message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(diag);
  }
  return out;
}
