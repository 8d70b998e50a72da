/**
 * A plan is one transition table: for each state, the stage label shown to operators and the events it
 * accepts with their next state. The thread loop consults it after every step; anything not in the table
 * is a bug, never a silent jump.
 */
export interface PlanTable<S extends string, E extends string> {
  name: string;
  initial: S;
  terminal: readonly S[];
  states: Record<S, { stage: string; on: Partial<Record<E, S>> }>;
}

/** The events a plan's table accepts, derived from the table itself. */
export type PlanEvent<P> = P extends PlanTable<string, infer E> ? E : never;
/** The states of a plan's table. */
export type PlanState<P> = P extends PlanTable<infer S, string> ? S : never;

export function definePlan<const S extends string, const E extends string>(table: PlanTable<S, E>): PlanTable<S, E> {
  for (const [state, def] of Object.entries(table.states) as [S, { on: Partial<Record<E, S>> }][]) {
    for (const [event, next] of Object.entries(def.on) as [E, S][]) {
      if (!(next in table.states)) throw new Error(`plan ${table.name}: ${state} --${event}--> unknown state ${next}`);
      if (next === state) throw new Error(`plan ${table.name}: ${state} --${event}--> itself would loop forever`);
    }
  }
  return table;
}

export class PlanError extends Error {
  override name = "PlanError";
}

export function nextState<S extends string, E extends string>(plan: PlanTable<S, E>, state: S, event: E): S {
  const def = plan.states[state];
  if (!def) throw new PlanError(`plan ${plan.name}: unknown state ${state}`);
  const next = def.on[event];
  if (next === undefined) {
    const accepted = Object.keys(def.on).join(", ") || "none";
    throw new PlanError(`plan ${plan.name}: event ${event} is not valid in state ${state} (accepted: ${accepted})`);
  }
  return next;
}

export function isState<S extends string, E extends string>(plan: PlanTable<S, E>, value: string): value is S {
  return value in plan.states;
}
