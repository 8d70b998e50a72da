import { expect, test } from "bun:test";
import { homedir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import { ExtProverFileSchema } from "../../core/config/ext-prover.ts";
import { planExtProverChildren } from "./ext-prover-config.ts";

test('an ext-prover Bin = "~/x" starts $HOME/x (seed 002: Bin = "~/my_algorithm")', () => {
  const config = v.parse(ExtProverFileSchema, {
    WdPost: [{ Bin: "~/my_algorithm", Args: ["--x"] }, { Bin: "/opt/a" }],
  });
  const plans = planExtProverChildren(
    "window",
    { file: "ext-prover.cfg", config, lines: new Map(), warnings: [] },
    { self: ["damocles"], baseEnv: {} },
  );
  expect(plans.map((p) => p.spec.command)).toEqual([[join(homedir(), "my_algorithm"), "--x"], ["/opt/a"]]);
});
