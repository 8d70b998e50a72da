import * as v from "valibot";
import { nonEmptyStr, nonNegativeInt, positiveInt, stringList, stringMap } from "./fields.ts";

/** `ext-prover.cfg` (seed 002, reference §6.3): external PoSt processors started by the manager. */
const ExtProverEntry = v.object({
  Bin: v.optional(nonEmptyStr("a path to an executable")),
  Args: v.optional(stringList()),
  Envs: v.optional(stringMap("a table of environment variables with string values"), {}),
  Concurrent: v.optional(positiveInt("a positive task count"), 1),
  Weight: v.optional(nonNegativeInt("a selection weight"), 1),
  ReadyTimeoutSecs: v.optional(positiveInt("a number of seconds"), 5),
});

export const ExtProverFileSchema = v.object({
  WdPost: v.optional(v.array(ExtProverEntry, "expected [[WdPost]] blocks"), []),
  WinPost: v.optional(v.array(ExtProverEntry, "expected [[WinPost]] blocks"), []),
});
export type ExtProverConfig = v.InferOutput<typeof ExtProverFileSchema>;
export type ExtProverEntryConfig = v.InferOutput<typeof ExtProverEntry>;
