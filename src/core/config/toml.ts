import { parse, TomlError } from "smol-toml";

export type TomlTable = Record<string, unknown>;

export class TomlSyntaxError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    readonly reason: string,
    readonly codeblock: string,
  ) {
    super(`${file}:${line}:${column} invalid TOML: ${reason}\n${codeblock}`);
    this.name = "TomlSyntaxError";
  }
}

/** Parse TOML text; syntax errors carry the file, line, column and the offending lines. */
export function parseToml(text: string, file: string): TomlTable {
  try {
    return parse(text) as TomlTable;
  } catch (err) {
    if (err instanceof TomlError) {
      const reason = err.message.replace(/^Invalid TOML document: /, "").split("\n")[0] ?? err.message;
      throw new TomlSyntaxError(file, err.line, err.column, explainTomlError(reason, text, err.line), err.codeblock);
    }
    throw err;
  }
}

/** smol-toml's messages are terse; add the hint an operator needs for the usual mistakes. */
function explainTomlError(reason: string, text: string, line: number): string {
  const src = text.split("\n")[line - 1] ?? "";
  if (/\{[^}]*\.\.\.[^}]*\}/.test(src) || /\.\.\./.test(src))
    return `${reason} ("..." is a placeholder in documentation, not TOML: list the real entries or remove it)`;
  if (/^\s*\[\[?[^\]]+\]\]?\s+\S/.test(src))
    return `${reason} (a table header must be alone on its line: put the keys that follow it on their own lines)`;
  if (/=\s*\/[^"']/.test(src)) return `${reason} (string values need quotes, e.g. bin = "/usr/local/bin/x")`;
  return reason;
}

/**
 * Maps dotted key paths ("processors.pc1.0.cgroup.cpuset") to 1-based line numbers, so schema errors can
 * point at the line. A light scanner, not a second parser: it understands table headers, arrays of tables,
 * dotted and quoted keys and one-line inline tables, which is what config files contain.
 */
export function keyLines(text: string): Map<string, number> {
  const lines = new Map<string, number>();
  const arrayCounts = new Map<string, number>();
  let current: string[] = [];
  const record = (path: string[], line: number) => {
    for (let i = 1; i <= path.length; i++) {
      const key = path.slice(0, i).join(".");
      if (!lines.has(key)) lines.set(key, line);
    }
  };
  let inMultiline: string | null = null;
  text.split("\n").forEach((raw, idx) => {
    const lineNo = idx + 1;
    if (inMultiline) {
      if (raw.includes(inMultiline)) inMultiline = null;
      return;
    }
    const line = stripComment(raw).trim();
    if (line === "") return;
    const arrayHeader = /^\[\[\s*(.+?)\s*\]\]$/.exec(line);
    if (arrayHeader) {
      const base = splitKey(arrayHeader[1]!);
      const resolved = resolveHeader(base, arrayCounts);
      const baseKey = resolved.join(".");
      const n = arrayCounts.get(baseKey) ?? 0;
      arrayCounts.set(baseKey, n + 1);
      current = [...resolved, String(n)];
      record(current, lineNo);
      return;
    }
    const header = /^\[\s*(.+?)\s*\]$/.exec(line);
    if (header) {
      current = resolveHeader(splitKey(header[1]!), arrayCounts);
      record(current, lineNo);
      return;
    }
    const kv = /^((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*=(.*)$/.exec(
      line,
    );
    if (!kv) return;
    const path = [...current, ...splitKey(kv[1]!)];
    record(path, lineNo);
    const value = kv[2]!.trim();
    if (value.startsWith('"""') && !value.slice(3).includes('"""')) inMultiline = '"""';
    else if (value.startsWith("'''") && !value.slice(3).includes("'''")) inMultiline = "'''";
    const inline = /^\{(.*)\}$/.exec(value);
    if (inline) {
      for (const m of inline[1]!.matchAll(/(?:^|,)\s*([A-Za-z0-9_.-]+|"[^"]*")\s*=/g)) {
        record([...path, ...splitKey(m[1]!)], lineNo);
      }
    }
  });
  return lines;
}

/** Inside [[a.b]] blocks, a header like [a.b.c] refers to the last element of a.b. */
function resolveHeader(path: string[], arrayCounts: Map<string, number>): string[] {
  const out: string[] = [];
  for (const part of path) {
    out.push(part);
    const n = arrayCounts.get(out.join("."));
    if (n !== undefined && out.length < path.length) out.push(String(n - 1));
  }
  return out;
}

function splitKey(key: string): string[] {
  const parts: string[] = [];
  const re = /\s*(?:"([^"]*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*(?:\.|$)/gy;
  for (let m = re.exec(key); m && m[0] !== ""; m = re.exec(key)) parts.push(m[1] ?? m[2] ?? m[3] ?? "");
  return parts;
}

function stripComment(line: string): string {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === "\\" && quote === '"') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "#") return line.slice(0, i);
  }
  return line;
}
