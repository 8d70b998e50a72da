import type { ConfigDiagnostic } from "./diagnostics.ts";
import { displayPath, lineFor } from "./diagnostics.ts";

/**
 * valibot's object schemas drop keys they do not know. An operator's typo must never vanish silently,
 * so we walk the raw TOML beside the schema and warn about every key the schema does not declare,
 * with the closest known key as a suggestion.
 */

interface SchemaLike {
  type: string;
  entries?: Record<string, SchemaLike>;
  wrapped?: SchemaLike;
  item?: SchemaLike;
  value?: SchemaLike;
  rest?: SchemaLike;
  options?: SchemaLike[];
  getter?: (input: unknown) => SchemaLike;
}

export interface UnknownKeyOptions {
  file: string;
  lines: Map<string, number>;
  basePath?: (string | number)[];
  /** Extra words for specific keys (legacy names, documentation placeholders). */
  hints?: Record<string, string>;
  /**
   * For tables whose extra keys are allowed by an `objectWithRest` (e.g. `[[processors.<stage>]]`):
   * return a warning text for a key that is suspicious, or undefined to accept it.
   */
  restKey?: (path: (string | number)[], key: string) => string | undefined;
}

export function findUnknownKeys(schema: unknown, value: unknown, opts: UnknownKeyOptions): ConfigDiagnostic[] {
  const out: ConfigDiagnostic[] = [];
  walk(schema as SchemaLike, value, opts.basePath ?? [], opts, out);
  return out;
}

function unwrap(schema: SchemaLike, value: unknown): SchemaLike {
  let s = schema;
  for (;;) {
    if (s.wrapped) s = s.wrapped;
    else if (s.type === "lazy" && s.getter) s = s.getter(value);
    else return s;
  }
}

function walk(
  schemaIn: SchemaLike,
  value: unknown,
  path: (string | number)[],
  opts: UnknownKeyOptions,
  out: ConfigDiagnostic[],
) {
  const schema = unwrap(schemaIn, value);
  if (schema.type === "union" && schema.options) {
    // Follow the first object-shaped option; unions in our schemas separate scalars from tables.
    const table = schema.options.map((o) => unwrap(o, value)).find((o) => o.entries);
    if (table && isTable(value)) walk(table, value, path, opts, out);
    return;
  }
  if (Array.isArray(value) && schema.item) {
    for (const [i, item] of value.entries()) walk(schema.item, item, [...path, i], opts, out);
    return;
  }
  if (!isTable(value)) return;
  if (schema.entries) {
    const known = Object.keys(schema.entries);
    for (const [key, child] of Object.entries(value)) {
      const childSchema = schema.entries[key];
      if (childSchema) {
        walk(childSchema, child, [...path, key], opts, out);
        continue;
      }
      if (schema.rest) {
        const warning = opts.restKey?.(path, key);
        if (warning) out.push(diag(opts, [...path, key], warning));
        walk(schema.rest, child, [...path, key], opts, out);
        continue;
      }
      const hint = opts.hints?.[key] ?? suggestion(key, known);
      out.push(diag(opts, [...path, key], `unknown key, ignored${hint ? ` (${hint})` : ""}`));
    }
    return;
  }
  if (schema.type === "record" && schema.value) {
    for (const [key, child] of Object.entries(value)) walk(schema.value, child, [...path, key], opts, out);
  }
}

function diag(opts: UnknownKeyOptions, keys: (string | number)[], message: string): ConfigDiagnostic {
  return { severity: "warning", file: opts.file, line: lineFor(opts.lines, keys), path: displayPath(keys), message };
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

export function suggestion(key: string, candidates: readonly string[]): string | undefined {
  const best = closest(key, candidates);
  return best ? `did you mean "${best}"?` : undefined;
}

/** The candidate within a small edit distance (ignoring case, spaces and '_'/'-'), if any. */
export function closest(key: string, candidates: readonly string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[\s_-]/g, "");
  const k = norm(key);
  let best: string | undefined;
  let bestDist = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const d = levenshtein(k, norm(c));
    if (d < bestDist) {
      bestDist = d;
      best = c;
    }
  }
  const limit = Math.max(1, Math.floor(k.length / 3));
  return bestDist <= limit ? best : undefined;
}

function levenshtein(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return prev[b.length]!;
}
