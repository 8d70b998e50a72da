#!/usr/bin/env bun
// Prints every layer-rule and file-size violation under src/ and exits 1 if there is any.
import { resolve } from "node:path";
import { checkLayers, formatViolation } from "./lib/layers.ts";

const root = resolve(import.meta.dir, "..");
const violations = checkLayers(root);
for (const v of violations) process.stderr.write(`${formatViolation(v)}\n`);
if (violations.length > 0) {
  process.stderr.write(`${violations.length} layer violation(s): see docs/architecture.md\n`);
  process.exit(1);
}
process.stdout.write("layers: ok\n");
