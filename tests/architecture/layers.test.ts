import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { checkLayers, formatViolation, importsOf, MAX_SRC_LINES } from "../../scripts/lib/layers.ts";

const REPO = resolve(import.meta.dir, "../..");

describe("layer rules (docs/architecture.md)", () => {
  test("the source tree keeps them", () => {
    const violations = checkLayers(REPO);
    // Printed in full so a failing run names the offending import and the rule it breaks.
    expect(violations.map(formatViolation)).toEqual([]);
  });

  describe("a planted violation is caught", () => {
    const root = mkdtempSync(join(tmpdir(), "damocles-layers-"));
    afterAll(() => rmSync(root, { recursive: true, force: true }));
    const plant = (path: string, text: string) => {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    };
    plant("src/core/rpc/ok.ts", 'import { x } from "../sector/id.ts";\n');
    plant("src/core/sector/id.ts", "export const x = 1;\n");
    plant("src/core/sector/bad.ts", 'import type { Worker } from "../../worker/daemon.ts";\n');
    plant(
      "src/plugins/pc9.ts",
      'import { x } from "../manager/daemon.ts";\nimport { y } from "../core/sector/id.ts";\n',
    );
    plant("src/util/peek.ts", '\n\nconst m = await import("../manager/home.ts");\n');
    plant("src/worker/daemon.ts", 'export { builtinPlugins } from "../plugins/index.ts";\n');
    plant("src/manager/pc.ts", 'import { pc1 } from "../plugins/pc1.ts";\n');
    plant("src/poster/run.ts", 'import { run } from "../manager/run.ts";\n');
    plant("src/core/rpc/index.ts", 'export * from "./ok.ts";\n');
    plant("src/core/sector/index.ts", '/** Sectors. */\nexport * from "./id.ts";\n');
    plant("src/core/sector/uses-barrel.ts", 'import { x } from "./index.ts";\n');
    plant("src/worker/huge.ts", "const a = 1;\n".repeat(MAX_SRC_LINES + 1));
    const found = checkLayers(root);
    const at = (file: string) => found.filter((v) => v.file === file);

    test("core importing a role, by a type-only import", () => {
      expect(at("src/core/sector/bad.ts")).toEqual([
        expect.objectContaining({
          line: 1,
          subject: "../../worker/daemon.ts",
          rule: expect.stringContaining("src/core imports no role"),
        }),
      ]);
    });
    test("a plugin importing a role", () => {
      expect(at("src/plugins/pc9.ts")).toEqual([
        expect.objectContaining({ line: 1, rule: expect.stringContaining("plugins import only src/core") }),
      ]);
    });
    test("a role importing another role, by a dynamic import", () => {
      expect(at("src/util/peek.ts")).toEqual([
        expect.objectContaining({
          line: 3,
          subject: "../manager/home.ts",
          rule: expect.stringContaining("util role imports the manager"),
        }),
      ]);
    });
    test("a role other than the worker and processor importing a plugin", () => {
      expect(at("src/manager/pc.ts")).toEqual([
        expect.objectContaining({ rule: expect.stringContaining("may not import plugins") }),
      ]);
    });
    test("a file over the size limit", () => {
      expect(at("src/worker/huge.ts")).toEqual([expect.objectContaining({ subject: `${MAX_SRC_LINES + 1} lines` })]);
    });
    test("a barrel without its opening comment, and a file importing its own module's barrel", () => {
      expect(at("src/core/rpc/index.ts")).toEqual([
        expect.objectContaining({ rule: expect.stringContaining("curated") }),
      ]);
      expect(at("src/core/sector/index.ts")).toEqual([]);
      expect(at("src/core/sector/uses-barrel.ts")).toEqual([
        expect.objectContaining({ subject: "./index.ts", rule: expect.stringContaining("own barrel") }),
      ]);
    });
    test("the allowed edges pass: core within core, worker to the built-in list, poster to manager", () => {
      expect(found.map((v) => v.file).sort()).toEqual([
        "src/core/rpc/index.ts",
        "src/core/sector/bad.ts",
        "src/core/sector/uses-barrel.ts",
        "src/manager/pc.ts",
        "src/plugins/pc9.ts",
        "src/util/peek.ts",
        "src/worker/huge.ts",
      ]);
    });
  });

  test("imports are found in every form the sources use", () => {
    const text = [
      'import { a } from "./a.ts";',
      'import type { B } from "../b.ts";',
      "import {",
      "  c,",
      '} from "./c.ts";',
      'export { d } from "./d.ts";',
      'export * from "./e.ts";',
      'const f = await import("./f.ts");',
      'import "./g.ts";',
      'import { join } from "node:path";',
    ].join("\n");
    expect(importsOf(text)).toEqual([
      { spec: "./a.ts", line: 1 },
      { spec: "../b.ts", line: 2 },
      { spec: "./c.ts", line: 5 },
      { spec: "./d.ts", line: 6 },
      { spec: "./e.ts", line: 7 },
      { spec: "./f.ts", line: 8 },
      { spec: "./g.ts", line: 9 },
    ]);
  });
});
