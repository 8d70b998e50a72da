import * as v from "valibot";
import type { Perm } from "../auth/perm.ts";

/**
 * One RPC method described once and used on both sides: the server validates positional params with
 * these schemas (go-jsonrpc sends params as an array), the client gets typed arguments and a validated result.
 * Every method names the permission a caller's token must hold (Lotus' `perm:"..."` tags): read for
 * queries, write for what workers do, sign for what spends the miner's funds, admin for operator actions.
 */

export type ParamList = readonly (readonly [name: string, schema: v.GenericSchema])[];

export type HandlerArgs<P extends ParamList> = {
  -readonly [K in keyof P]: P[K] extends readonly [string, infer S extends v.GenericSchema] ? v.InferOutput<S> : never;
};

/**
 * A caller's arguments: one per param, except that a run of trailing params whose schemas accept
 * undefined may be left out (the client does not send them), so adding an optional param to a method
 * keeps its existing calls valid.
 */
export type CallArgs<P extends ParamList> = P extends readonly [
  readonly [string, infer S extends v.GenericSchema],
  ...infer Rest extends ParamList,
]
  ? undefined extends v.InferInput<S>
    ? AllOptional<Rest> extends true
      ? [arg?: v.InferInput<S>, ...CallArgs<Rest>]
      : [v.InferInput<S>, ...CallArgs<Rest>]
    : [v.InferInput<S>, ...CallArgs<Rest>]
  : [];

type AllOptional<P extends ParamList> = P extends readonly [
  readonly [string, infer S extends v.GenericSchema],
  ...infer Rest extends ParamList,
]
  ? undefined extends v.InferInput<S>
    ? AllOptional<Rest>
    : false
  : true;

export interface MethodDef<P extends ParamList = ParamList, R extends v.GenericSchema = v.GenericSchema> {
  readonly name: string;
  readonly params: P;
  readonly result: R;
  readonly perm: Perm;
}

export type ResultOf<M extends MethodDef> = v.InferOutput<M["result"]>;

export function defineMethod<const P extends ParamList, R extends v.GenericSchema>(
  name: string,
  params: P,
  result: R,
  perm: Perm,
): MethodDef<P, R> {
  return { name, params, result, perm };
}

/** Validates a params array against a method's list; returns values or a message naming the bad field. */
export function validateParams<P extends ParamList>(
  def: MethodDef<P>,
  params: unknown[],
): { ok: true; values: HandlerArgs<P> } | { ok: false; message: string } {
  if (params.length > def.params.length) {
    return {
      ok: false,
      message: `${def.name} takes ${def.params.length} param(s) (${def.params.map(([n]) => n).join(", ")}), got ${params.length}`,
    };
  }
  const values: unknown[] = [];
  for (let i = 0; i < def.params.length; i++) {
    const [name, schema] = def.params[i]!;
    const result = v.safeParse(schema, params[i]);
    if (!result.success) {
      const issue = result.issues[0];
      const path = v.getDotPath(issue);
      const field = path ? `${name}.${path}` : name;
      const got = params[i] === undefined ? "nothing" : preview(issue.input);
      return { ok: false, message: `invalid param ${i} "${field}" of ${def.name}: ${issue.message} (got ${got})` };
    }
    values.push(result.output);
  }
  return { ok: true, values: values as HandlerArgs<P> };
}

function preview(value: unknown): string {
  let text: string;
  try {
    text = value === undefined ? "undefined" : JSON.stringify(value);
  } catch {
    text = String(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
