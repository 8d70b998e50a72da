import type { ConsolaInstance } from "consola";
import { Failure, permanent, temporary } from "../core/errors/index.ts";
import { validateInput, validateWith } from "../core/plugin/api.ts";
import type { PluginRegistry } from "../core/plugin/loader.ts";
import type { ProcessorPool } from "../core/processor/pool.ts";
import { ProcessorError } from "../core/processor/producer.ts";
import { Semaphore, Staggered } from "../core/sync/semaphore.ts";
import type { ThreadActivity } from "./thread.ts";

/**
 * Runs one stage task for a sealing thread: takes the stage's token (`limitation.concurrent`), waits its
 * turn (`limitation.staggered`), then runs the task in an external processor when the stage has
 * `[[processors.<stage>]]` entries, or in-process through the stage plugin otherwise.
 */
export interface StageLimits {
  concurrent: Record<string, number>;
  staggered: Record<string, number>;
}

export interface StageCall {
  signal: AbortSignal;
  setActivity(a: ThreadActivity): void;
  log: ConsolaInstance;
}

export class StageRunner {
  private readonly tokens = new Map<string, Semaphore>();
  private readonly staggers = new Map<string, Staggered>();

  constructor(
    private readonly registry: PluginRegistry,
    private readonly pools: ReadonlyMap<string, ProcessorPool>,
    limits: StageLimits,
  ) {
    for (const [stage, n] of Object.entries(limits.concurrent)) if (n > 0) this.tokens.set(stage, new Semaphore(n));
    for (const [stage, ms] of Object.entries(limits.staggered)) if (ms > 0) this.staggers.set(stage, new Staggered(ms));
  }

  has(stage: string): boolean {
    return this.registry.has(stage) || this.pools.has(stage);
  }

  async run(stage: string, task: unknown, call: StageCall): Promise<unknown> {
    const plugin = this.registry.get(stage);
    const pool = this.pools.get(stage);
    if (!plugin && !pool) throw permanent(new Error(`no plugin and no [[processors.${stage}]] for stage ${stage}`));
    call.setActivity({ kind: "waiting", on: `${stage} token` });
    const release = await this.tokens.get(stage)?.acquire(call.signal);
    try {
      await this.staggers.get(stage)?.wait(call.signal);
      call.setActivity({ kind: "running", proc: stage });
      if (pool) return await this.external(stage, pool, task, call);
      const input = await validateInput(plugin!, task);
      if (!input.ok) throw permanent(new Error(input.error));
      try {
        return await plugin!.run(input.value, { log: call.log, signal: call.signal });
      } catch (err) {
        throw err instanceof Failure ? err : permanent(err, stage);
      }
    } finally {
      release?.();
    }
  }

  private async external(stage: string, pool: ProcessorPool, task: unknown, call: StageCall): Promise<unknown> {
    let output: unknown;
    let child: string;
    try {
      const r = await pool.run(task, call.signal);
      output = r.output;
      child = `${stage}#${r.child.spec.index} (pid ${r.child.pid})`;
    } catch (err) {
      // A child that died is restarted by its pool: the task can be retried. A task error or a broken
      // protocol will not fix itself: the operator must look.
      if (err instanceof ProcessorError && err.kind === "exited") throw temporary(err, `${stage} processor`);
      throw permanent(err, `${stage} processor`);
    }
    const schema = this.registry.get(stage)?.output;
    if (!schema) return output;
    const checked = await validateWith(schema, output);
    if (!checked.ok)
      throw permanent(
        new Error(`processor ${child} answered an output that is not a ${stage} result: ${checked.error}`),
      );
    return checked.value;
  }
}
