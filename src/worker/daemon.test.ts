import { expect, test } from "bun:test";
import { homedir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import { ProcessorSchema } from "../core/config/worker.ts";
import { childSpecs } from "./daemon.ts";

// Seed 002's examples write `bin = "~/my_algorithm"`; started literally, the child could never start.
test('a processor bin = "~/x" starts $HOME/x; other paths are kept', () => {
  const entries = [
    v.parse(ProcessorSchema, { bin: "~/my_algorithm", args: ["--fast"] }),
    v.parse(ProcessorSchema, { bin: "/opt/algo" }),
    v.parse(ProcessorSchema, { bin: "algo-on-path" }),
  ];
  const commands = childSpecs("window_post", entries, undefined).map((s) => s.command);
  expect(commands).toEqual([[join(homedir(), "my_algorithm"), "--fast"], ["/opt/algo"], ["algo-on-path"]]);
});
