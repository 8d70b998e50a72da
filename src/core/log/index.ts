/** The one consola logger of every role, and its per-component children. */

import { type ConsolaInstance, createConsola } from "consola";

/**
 * One logger for every role. Daemons and processor children log to stderr so that stdout stays
 * free for command output and the processor protocol.
 */
function levelFromEnv(): number {
  const raw = process.env.DAMOCLES_LOG_LEVEL ?? process.env.LOG_LEVEL;
  const levels: Record<string, number> = { silent: -999, error: 0, warn: 1, info: 3, debug: 4, trace: 5 };
  if (raw && raw in levels) return levels[raw]!;
  return 3;
}

export const logger: ConsolaInstance = createConsola({
  level: levelFromEnv(),
  stdout: process.stderr,
  stderr: process.stderr,
  formatOptions: { date: true, colors: process.stderr.isTTY === true },
});

export function childLogger(tag: string): ConsolaInstance {
  return logger.withTag(tag);
}
