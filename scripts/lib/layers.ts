import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative, sep } from "node:path";

/**
 * The layer rules of docs/architecture.md as code. Dependencies point down only:
 *
 *   bin/                      the entry: may import anything
 *   roles  src/{manager,worker,poster,util,processor,devnet}/   import src/core and their own folder;
 *          the worker and processor composition roots load the built-in plugin list (src/plugins/index.ts);
 *          poster may use manager; manager may start the devnet node in-process
 *   plugins src/plugins/      import only src/core (and each other)
 *   core   src/core/          imports no role and no plugin
 *
 * Type-only imports count: a type is a contract, and a contract shared by several roles belongs in core.
 */
export const MAX_SRC_LINES = 450;

const ROLES = ["manager", "worker", "poster", "util", "processor", "devnet"] as const;
type Layer = "core" | "plugins" | (typeof ROLES)[number];

/** Extra edges a role may have beyond core and itself. */
const ROLE_MAY_IMPORT: Partial<Record<Layer, readonly string[]>> = {
  worker: ["src/plugins/index.ts"],
  processor: ["src/plugins/index.ts"],
  poster: ["src/manager/"],
  manager: ["src/devnet/"],
};

export interface Violation {
  file: string;
  line: number;
  /** The import as written, or the line count for a size violation. */
  subject: string;
  rule: string;
}

function layerOf(path: string): Layer | undefined {
  const parts = path.split("/");
  if (parts[0] !== "src" || parts.length < 3) return undefined;
  const top = parts[1] as Layer;
  return top === "core" || top === "plugins" || (ROLES as readonly string[]).includes(top) ? top : undefined;
}

function allowed(from: Layer, target: string): { ok: true } | { ok: false; rule: string } {
  const to = layerOf(target);
  if (to === undefined || to === from || to === "core") {
    if (from === "core" && to !== undefined && to !== "core") return { ok: false, rule: "core imports no role" };
    return { ok: true };
  }
  if (from === "core") {
    return { ok: false, rule: `src/core imports no role and no plugin (${to}); move the shared contract into core` };
  }
  if (from === "plugins") return { ok: false, rule: `plugins import only src/core, not the ${to} role` };
  if ((ROLE_MAY_IMPORT[from] ?? []).some((p) => (p.endsWith("/") ? target.startsWith(p) : target === p))) {
    return { ok: true };
  }
  if (to === "plugins") {
    return {
      ok: false,
      rule: `the ${from} role may not import plugins (only the worker and processor composition roots load src/plugins/index.ts)`,
    };
  }
  return {
    ok: false,
    rule: `the ${from} role imports the ${to} role's internals; a contract both use belongs in src/core`,
  };
}

const IMPORT_RE =
  /(?:^|[\s;])(?:import|export)\b[^"'`;]*?\bfrom\s*["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']\s*\)|^\s*import\s*["']([^"']+)["']/gm;

/** Relative import specifiers of a source text, with their 1-based line numbers. */
export function importsOf(text: string): Array<{ spec: string; line: number }> {
  const out: Array<{ spec: string; line: number }> = [];
  for (const m of text.matchAll(IMPORT_RE)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (!spec?.startsWith(".")) continue;
    const line = text.slice(0, m.index + m[0].length).split("\n").length;
    out.push({ spec, line });
  }
  return out;
}

function sourceFiles(root: string, dir: string): string[] {
  const abs = join(root, dir);
  let entries: string[];
  try {
    entries = readdirSync(abs);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    const rel = `${dir}/${name}`;
    if (statSync(join(root, rel)).isDirectory()) return sourceFiles(root, rel);
    return name.endsWith(".ts") ? [rel] : [];
  });
}

/** Every layer and size violation under root/src (paths in the result are relative to root). */
export function checkLayers(root: string): Violation[] {
  const violations: Violation[] = [];
  for (const file of sourceFiles(root, "src")) {
    const from = layerOf(file);
    const text = readFileSync(join(root, file), "utf8");
    const lines = text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
    // Tests and generated declarations (the napi build writes the addon's .d.ts) are not split by job.
    if (lines > MAX_SRC_LINES && !file.endsWith(".test.ts") && !file.endsWith(".d.ts")) {
      violations.push({
        file,
        line: lines,
        subject: `${lines} lines`,
        rule: `no file in src/ over ${MAX_SRC_LINES} lines; split it by job`,
      });
    }
    if (file.endsWith("/index.ts") && !text.trimStart().startsWith("/**")) {
      violations.push({
        file,
        line: 1,
        subject: "index.ts",
        rule: "a barrel is a curated public face: open it with a /** comment saying what the module offers",
      });
    }
    if (from === undefined) continue;
    for (const { spec, line } of importsOf(text)) {
      const target = relative(root, normalize(join(root, dirname(file), spec)))
        .split(sep)
        .join("/");
      const verdict = allowed(from, target);
      if (!verdict.ok) violations.push({ file, line, subject: spec, rule: verdict.rule });
      if (target.endsWith("/index.ts") && file.startsWith(`${dirname(target)}/`) && !file.endsWith(".test.ts")) {
        violations.push({
          file,
          line,
          subject: spec,
          rule: "inside a module, import the file itself, not the module's own barrel (it invites import cycles)",
        });
      }
    }
  }
  return violations;
}

export function formatViolation(v: Violation): string {
  return `${v.file}:${v.line}: ${v.subject}\n    rule: ${v.rule}`;
}
