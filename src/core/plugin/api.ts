import type { ConsolaInstance } from "consola";

/**
 * The public plugin API: built-in stages and third-party plugins from a plugins/ directory are written
 * against exactly this. A stage plugin validates its task input with any Standard Schema (valibot — which
 * the built-ins use —, zod, arktype …) and returns a JSON-serialisable output in its stage's wire shape.
 * A plugin file needs no import from damocles: `export default { name, stage, input, run }` is enough.
 */
export interface StandardSchema<Output = unknown> {
  readonly "~standard": {
    readonly version: 1;
    readonly vendor: string;
    readonly validate: (value: unknown) => StandardResult<Output> | Promise<StandardResult<Output>>;
  };
}
export type StandardResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | {
      readonly issues: ReadonlyArray<{
        readonly message: string;
        readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }>;
      }>;
    };

export interface StageContext {
  log: ConsolaInstance;
  /** Aborted when the task is cancelled or the processor shuts down. */
  signal: AbortSignal;
}

export interface StagePlugin<Input = unknown, Output = unknown> {
  /** Plugin name, for logs and `processor --help`. */
  name: string;
  /** The stage it implements: a built-in name (pc1, transfer, …) replaces that stage; a new name adds one. */
  stage: string;
  description?: string;
  input: StandardSchema<Input>;
  /**
   * The output's shape. The worker validates what an external processor answers for this stage against
   * it, so a custom processor with a wrong output fails the task with a clear message instead of
   * corrupting the sector's state.
   */
  output?: StandardSchema<Output>;
  run(input: Input, ctx: StageContext): Promise<Output>;
}

export function definePlugin<Input, Output>(plugin: StagePlugin<Input, Output>): StagePlugin<Input, Output> {
  return plugin;
}

/** A plugin of any input: `run` takes its input contravariantly, so a collection of plugins needs the wildcard. */
// biome-ignore lint/suspicious/noExplicitAny: see above; inputs are validated by the plugin's own schema first.
export type AnyStagePlugin = StagePlugin<any, unknown>;

/** Validate a task against a plugin's schema; issues become one readable line naming each field. */
export async function validateInput<I>(
  plugin: StagePlugin<I, unknown>,
  raw: unknown,
): Promise<{ ok: true; value: I } | { ok: false; error: string }> {
  const r = await validateWith(plugin.input, raw);
  return r.ok ? r : { ok: false, error: `invalid ${plugin.stage} task: ${r.error}` };
}

export async function validateWith<T>(
  schema: StandardSchema<T>,
  raw: unknown,
): Promise<{ ok: true; value: T } | { ok: false; error: string }> {
  const result = await schema["~standard"].validate(raw);
  if (!result.issues) return { ok: true, value: result.value };
  const why = result.issues
    .map((i) => {
      const path = (i.path ?? [])
        .map((p) => String(typeof p === "object" && p !== null && "key" in p ? p.key : p))
        .join(".");
      return `${path || "task"}: ${i.message}`;
    })
    .join("; ");
  return { ok: false, error: why };
}

/** Shape check for objects loaded from a plugins directory, with a message that says what is missing. */
export function asStagePlugin(value: unknown, source: string): AnyStagePlugin {
  const p = value as Partial<AnyStagePlugin> | undefined;
  const missing: string[] = [];
  if (!p || typeof p !== "object")
    throw new Error(`${source}: the default export must be a plugin object ({ name, stage, input, run })`);
  if (typeof p.name !== "string" || p.name === "") missing.push("name (string)");
  if (typeof p.stage !== "string" || !/^[a-z][a-z0-9_]*$/.test(p.stage))
    missing.push("stage (lower_snake_case string)");
  if (!p.input || typeof (p.input as StandardSchema)["~standard"]?.validate !== "function")
    missing.push("input (a Standard Schema, e.g. a valibot schema)");
  if (typeof p.run !== "function") missing.push("run (async function)");
  if (missing.length > 0) throw new Error(`${source}: not a stage plugin; missing or invalid: ${missing.join(", ")}`);
  return p as AnyStagePlugin;
}
