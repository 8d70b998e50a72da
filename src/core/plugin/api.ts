import type * as v from "valibot";
import type { ConsolaInstance } from "consola";

/**
 * The public plugin API: built-in stages and third-party plugins from a plugins/ directory are written
 * against exactly this. A stage plugin validates its task input with a valibot schema and returns a
 * JSON-serialisable output in the vc-processors wire shape of its stage.
 */
export interface StageContext {
  log: ConsolaInstance;
  /** Aborted when the task is cancelled or the processor shuts down. */
  signal: AbortSignal;
}

export interface StagePlugin<TSchema extends v.GenericSchema = v.GenericSchema, TOutput = unknown> {
  /** Plugin name, for logs and `processor --help`. */
  name: string;
  /** The stage it implements: a built-in name (pc1, transfer, …) replaces that stage; a new name adds one. */
  stage: string;
  description?: string;
  input: TSchema;
  run(input: v.InferOutput<TSchema>, ctx: StageContext): Promise<TOutput>;
}

export function definePlugin<TSchema extends v.GenericSchema, TOutput>(
  plugin: StagePlugin<TSchema, TOutput>,
): StagePlugin<TSchema, TOutput> {
  return plugin;
}

export type AnyStagePlugin = StagePlugin<v.GenericSchema, unknown>;
