import * as v from "valibot";
import { describeMemoryPolicy, execProgram, type MemoryPolicy, preferNumaNode } from "../proofs/index.ts";
import { selfCommand } from "../self.ts";

/**
 * The placement launcher (`damocles processor-exec`): the worker starts a processor with `numa_preferred`
 * through it instead of numactl. It sets the memory policy on its only relevant thread, tells the worker the
 * policy it read back in one line on stdout, and execs the processor in its place: same pid, same stdio, and
 * every thread of the processor inherits the policy. The worker reads that line before the processor's own
 * ready line, so the processor protocol is unchanged for third-party processors.
 */
export const LAUNCHER_COMMAND = "processor-exec";
const REPORT_PREFIX = "damocles-placement ";

const MemoryPolicySchema = v.object({
  mode: v.string(),
  nodes: v.array(v.pipe(v.number(), v.integer(), v.minValue(0))),
});

const LauncherReportSchema = v.union([
  v.object({ memory_policy: MemoryPolicySchema }),
  v.object({ error: v.string() }),
]);
export type LauncherReport = v.InferOutput<typeof LauncherReportSchema>;

/** The command prefix that starts a program with its memory preferring `node`; `self` runs damocles. */
export function launcherPrefix(node: number, self: readonly string[] = selfCommand()): string[] {
  return [...self, LAUNCHER_COMMAND, `--numa-preferred=${node}`, "--"];
}

export function formatLauncherReport(r: LauncherReport): string {
  return `${REPORT_PREFIX}${JSON.stringify(r)}`;
}

/** The launcher's report in a child's stdout line, or undefined when the line is not one. */
export function parseLauncherReport(line: string): LauncherReport | undefined {
  if (!line.startsWith(REPORT_PREFIX)) return undefined;
  const text = line.slice(REPORT_PREFIX.length);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { error: `unreadable placement report ${JSON.stringify(text.slice(0, 100))}` };
  }
  const r = v.safeParse(LauncherReportSchema, json);
  return r.success ? r.output : { error: `unreadable placement report ${JSON.stringify(text.slice(0, 100))}` };
}

export interface LauncherIO {
  /** Writes one line to stdout, unbuffered (the exec that follows would drop a buffer). */
  writeLine(line: string): void;
  log: { info(msg: string): void; error(msg: string): void };
}

/**
 * Sets the policy, reports it and execs `argv`. Returns only on failure, with the exit code to use; the
 * failure was reported on stdout, so the worker shows it in its "did not become ready" error.
 */
export function launch(node: number, argv: readonly string[], io: LauncherIO): number {
  const fail = (message: string) => {
    io.writeLine(formatLauncherReport({ error: message }));
    io.log.error(message);
    return 1;
  };
  if (argv.length === 0) return fail("processor-exec: no program to start (expected: -- PROGRAM ARGS...)");
  let policy: MemoryPolicy;
  try {
    policy = preferNumaNode(node);
  } catch (err) {
    return fail(`numa_preferred = ${node}: ${(err as Error).message}`);
  }
  io.writeLine(formatLauncherReport({ memory_policy: policy }));
  io.log.info(`memory policy ${describeMemoryPolicy(policy)}; starting ${argv.join(" ")}`);
  try {
    execProgram(argv);
  } catch (err) {
    return fail((err as Error).message);
  }
}
