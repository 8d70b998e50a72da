import type { ConsolaInstance } from "consola";
import * as v from "valibot";
import { formatDiagnostic } from "../../core/config/diagnostics.ts";
import { childLogger } from "../../core/log/index.ts";
import { ProcessorChild, ProcessorError } from "../../core/processor/producer.ts";
import {
  type PoStTaskParts,
  proofsFromWire,
  toWirePoStTask,
  WindowPoStOutputSchema,
  WinningPoStOutputSchema,
} from "../../core/processor/stages/post.ts";
import type { PoStProof } from "../../core/proofs/index.ts";
import { selfCommand } from "../../core/self.ts";
import type {
  WindowPoStOutput,
  WindowPoStProver,
  WindowPoStTask,
  WinningPoStProver,
  WinningPoStTask,
} from "../prover.ts";
import {
  EXT_PROVER_KINDS,
  type ExtProverChildPlan,
  type ExtProverKind,
  planExtProverChildren,
  processEnv,
  readExtProverFile,
} from "./ext-prover-config.ts";
import { LocalProver, privateReplica } from "./local.ts";
import { ChildTaskError, WeightedPool } from "./weighted-pool.ts";

/**
 * The manager's `--ext-prover`: WindowPoSt and WinningPoSt in external processor children described by
 * ext-prover.cfg, one child per [[WdPost]] / [[WinPost]] entry, over the vc-processors protocol (so a
 * custom prover written for the Go damocles-manager runs unchanged). A kind without entries runs
 * in-process (LocalProver).
 */

export interface ExtProverOptions {
  /** ext-prover.cfg (home or --conf-dir). A missing or invalid file fails with file:line messages. */
  configPath: string;
  /** Runs a kind that has no entries; default: a LocalProver. */
  fallback?: WindowPoStProver & WinningPoStProver;
  log?: ConsolaInstance;
  /** How to start this executable for entries without Bin; default selfCommand(). */
  self?: readonly string[];
  /** Environment the children start from; default: the manager's. */
  baseEnv?: Record<string, string>;
  restartDelayMs?: number;
  /** Source of the weighted pick, [0, 1) (tests). */
  random?: () => number;
}

export interface ExtProvers {
  window: WindowPoStProver;
  winning: WinningPoStProver;
  /** Stops every child. */
  close(): Promise<void>;
}

/** Reads the file, starts every child and waits until each one is ready; on any failure stops them all. */
export async function createExtProver(opts: ExtProverOptions): Promise<ExtProvers> {
  const log = opts.log ?? childLogger("manager");
  const file = await readExtProverFile(opts.configPath);
  for (const w of file.warnings) log.warn(formatDiagnostic(w));
  const planOpts = {
    self: opts.self ?? selfCommand(),
    baseEnv: opts.baseEnv ?? processEnv(),
    restartDelayMs: opts.restartDelayMs,
  };
  const windowPlans = planExtProverChildren("window", file, planOpts);
  const winningPlans = planExtProverChildren("winning", file, planOpts);
  const fallback = opts.fallback ?? new LocalProver();
  for (const [kind, plans] of [
    ["window", windowPlans],
    ["winning", winningPlans],
  ] as const) {
    if (plans.length === 0) {
      const { section, stage } = EXT_PROVER_KINDS[kind];
      log.info(
        `ext-prover: no [[${section}]] entries in ${file.file}; ${stage} runs in-process (${fallback.name} prover)`,
      );
    }
  }
  const [windowPool, winningPool] = await startAll([windowPlans, winningPlans], log, opts.random);
  const window = windowPool ? new ExtWindowProver(windowPool, log) : fallback;
  const winning = winningPool ? new ExtWinningProver(winningPool) : fallback;
  return {
    window,
    winning,
    async close() {
      await Promise.all([windowPool?.stop(), winningPool?.stop()]);
    },
  };
}

/** The children of one kind, with the entry each one came from. */
export class ExtPool {
  constructor(
    readonly kind: ExtProverKind,
    readonly plans: readonly ExtProverChildPlan[],
    readonly pool: WeightedPool<ProcessorChild>,
  ) {}

  get stage(): string {
    return EXT_PROVER_KINDS[this.kind].stage;
  }

  /** Runs a task; a failure names the child that answered it. */
  async run(task: unknown, signal?: AbortSignal): Promise<{ output: unknown; child: string }> {
    try {
      const r = await this.pool.run(task, signal);
      return { output: r.output, child: this.describe(r.index, r.child) };
    } catch (err) {
      if (err instanceof ChildTaskError && !signal?.aborted) {
        throw new Error(`ext-prover ${this.describe(err.index, err.child as ProcessorChild)}: ${err.message}`, {
          cause: err.cause,
        });
      }
      throw err instanceof ChildTaskError ? err.cause : err;
    }
  }

  describe(index: number, child: ProcessorChild): string {
    return `${this.stage} child #${index} (${this.plans[index]!.entry}, pid ${child.pid})`;
  }

  async stop(): Promise<void> {
    await Promise.all(this.pool.children.map((c) => c.stop()));
  }
}

async function startAll(
  kinds: readonly (readonly ExtProverChildPlan[])[],
  log: ConsolaInstance,
  random: (() => number) | undefined,
): Promise<(ExtPool | undefined)[]> {
  const all = kinds.flat().map((plan) => ({ plan, child: new ProcessorChild(plan.spec) }));
  const results = await Promise.allSettled(
    all.map(async ({ plan, child }) => {
      try {
        await child.start();
      } catch (err) {
        throw new Error(startFailure(plan, err));
      }
      log.info(`ext-prover: ${plan.spec.stage} child #${plan.index} (${plan.program}) ready`);
    }),
  );
  const failures = results.flatMap((r) => (r.status === "rejected" ? [(r.reason as Error).message] : []));
  if (failures.length > 0) {
    await Promise.all(all.map(({ child }) => child.stop()));
    throw new Error(
      `ext-prover: ${failures.length} of ${all.length} processor(s) did not start:\n  ${failures.join("\n  ")}`,
    );
  }
  return kinds.map((plans) => {
    if (plans.length === 0) return undefined;
    const members = plans.map((plan) => ({
      child: all.find((c) => c.plan === plan)!.child,
      concurrent: plan.concurrent,
      weight: plan.weight,
    }));
    return new ExtPool(
      plans[0]!.kind,
      plans,
      new WeightedPool(EXT_PROVER_KINDS[plans[0]!.kind].stage, members, random),
    );
  });
}

function startFailure(plan: ExtProverChildPlan, err: unknown): string {
  const cmd = plan.spec.command.join(" ");
  if (err instanceof ProcessorError) {
    return `${plan.entry}: ${err.message} (ReadyTimeoutSecs = ${plan.readyTimeoutSecs}: check Bin/Args, or raise ReadyTimeoutSecs if the prover is slow to start)`;
  }
  const why = err instanceof Error ? err.message : String(err);
  return `${plan.entry}: cannot start ${cmd}: ${why} (check Bin: it must be an executable file)`;
}

/** Validates a child's answer; a wrong shape is the child's fault, named with the child. */
function parseOutput<S extends v.GenericSchema>(schema: S, output: unknown, child: string): v.InferOutput<S> {
  const r = v.safeParse(schema, output);
  if (r.success) return r.output;
  const why = r.issues.map((i) => `${v.getDotPath(i) ?? "output"}: ${i.message}`).join("; ");
  throw new Error(`ext-prover ${child} answered an output that is not a result of its stage: ${why}`);
}

function taskParts(task: WindowPoStTask | WinningPoStTask, replicas = task.replicas): PoStTaskParts {
  return { minerId: task.minerId, proofType: task.proofType, seed: task.seed, replicas: replicas.map(privateReplica) };
}

export class ExtWindowProver implements WindowPoStProver {
  readonly name: string;

  constructor(
    private readonly ext: ExtPool,
    private readonly log: ConsolaInstance,
  ) {
    this.name = `ext-prover (${ext.plans.length} window_post processor${ext.plans.length === 1 ? "" : "s"})`;
  }

  /**
   * A processor answers either the proofs over the sectors it could read plus the faults (damocles), or
   * only the faults (the rust built-in): then the remaining sectors are proven again, so the result
   * always holds the proofs over the replicas minus the faults. Each round drops at least one sector.
   */
  async generateWindowPoSt(task: WindowPoStTask, signal?: AbortSignal): Promise<WindowPoStOutput> {
    if (task.replicas.length === 0)
      throw new Error(`WindowPoSt of miner ${task.minerId} deadline ${task.deadline}: no sectors to prove`);
    const faults = new Set<number>();
    let remaining = task.replicas;
    for (;;) {
      const { output, child } = await this.ext.run(toWirePoStTask(taskParts(task, remaining)), signal);
      const out = parseOutput(WindowPoStOutputSchema, output, child);
      const asked = new Set(remaining.map((r) => r.sectorId));
      const strangers = out.faults.filter((f) => !asked.has(f));
      if (strangers.length > 0)
        throw new Error(
          `ext-prover ${child} reported faults for sectors it was not asked to prove: ${strangers.join(", ")}`,
        );
      for (const f of out.faults) faults.add(f);
      remaining = remaining.filter((r) => !faults.has(r.sectorId));
      if (out.proofs.length > 0 || remaining.length === 0) {
        return { proofs: proofsFromWire(out.proofs, task.proofType), faults: [...faults].sort((a, b) => a - b) };
      }
      if (out.faults.length === 0) throw new Error(`ext-prover ${child} answered neither proofs nor faults`);
      this.log.warn(
        `ext-prover: ${child} reported faulty sectors ${out.faults.join(", ")}; proving the other ${remaining.length} again`,
      );
    }
  }
}

export class ExtWinningProver implements WinningPoStProver {
  readonly name: string;

  constructor(private readonly ext: ExtPool) {
    this.name = `ext-prover (${ext.plans.length} winning_post processor${ext.plans.length === 1 ? "" : "s"})`;
  }

  async generateWinningPoSt(task: WinningPoStTask, signal?: AbortSignal): Promise<PoStProof[]> {
    if (task.replicas.length === 0)
      throw new Error(`WinningPoSt of miner ${task.minerId}: no challenged sectors to prove`);
    const { output, child } = await this.ext.run(toWirePoStTask(taskParts(task)), signal);
    const out = parseOutput(WinningPoStOutputSchema, output, child);
    if (out.proofs.length === 0) throw new Error(`ext-prover ${child} answered no WinningPoSt proof`);
    return proofsFromWire(out.proofs, task.proofType);
  }
}
