import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadPlugins } from "../core/plugin/loader.ts";
import { builtinPlugins } from "./index.ts";

const tmp = mkdtempSync(join(tmpdir(), "damocles-plugins-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// A third-party plugin needs nothing from damocles: a Standard Schema and a run function.
const upper = `export default {
  name: "upper",
  stage: "shout",
  input: { "~standard": { version: 1, vendor: "hand", validate: (v) => typeof v?.text === "string" ? { value: v } : { issues: [{ message: "text must be a string", path: ["text"] }] } } },
  async run(task) { return task.text.toUpperCase(); },
};
`;

test("a plugin file adds a stage; one with the name of a built-in replaces it", async () => {
  const dir = join(tmp, "ok");
  mkdirSync(dir);
  writeFileSync(join(dir, "shout.js"), upper);
  writeFileSync(join(dir, "transfer.js"), upper.replace('"shout"', '"transfer"').replace('"upper"', '"my-transfer"'));
  writeFileSync(join(dir, "notes.md"), "not a plugin");
  const reg = await loadPlugins(builtinPlugins, dir);
  expect(reg.get("shout")?.name).toBe("upper");
  expect(reg.get("transfer")?.name).toBe("my-transfer");
  expect(await reg.get("shout")!.run({ text: "hi" }, {} as never)).toBe("HI");
});

test("a file that is not a plugin stops the load, naming what is missing", async () => {
  const dir = join(tmp, "bad");
  mkdirSync(dir);
  writeFileSync(join(dir, "broken.js"), "export default { name: 'x', stage: 'Bad Stage' };");
  await expect(loadPlugins(builtinPlugins, dir)).rejects.toThrow(
    /broken\.js: not a stage plugin; missing or invalid: stage .*input .*run/,
  );
});

test("no directory means built-ins only", async () => {
  const reg = await loadPlugins(builtinPlugins, join(tmp, "absent"));
  expect([...reg.keys()]).toEqual(builtinPlugins.map((p) => p.stage));
});
