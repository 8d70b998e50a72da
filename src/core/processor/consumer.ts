import * as v from "valibot";
import { childLogger } from "../log/index.ts";
import { type AnyStagePlugin, validateInput } from "../plugin/api.ts";

/**
 * The child side of the vc-processors protocol: announce `<stage> processor ready` on stdout, then answer
 * NDJSON requests `{id, task}` with `{id, err_msg, output}`, concurrently and matched by id. stdout carries
 * protocol lines only; every log goes to stderr.
 */
const Request = v.object({
  id: v.pipe(
    v.number("id must be a number"),
    v.integer("id must be an integer"),
    v.minValue(0, "id must not be negative"),
  ),
  task: v.unknown(),
});

export interface ConsumerIO {
  lines: AsyncIterable<string>;
  write(line: string): void;
}

export function readyLine(stage: string): string {
  return `${stage} processor ready`;
}

export async function runConsumer(plugin: AnyStagePlugin, io: ConsumerIO): Promise<void> {
  const log = childLogger(`processor:${plugin.stage}`);
  const abort = new AbortController();
  const inflight = new Set<Promise<void>>();
  const respond = (id: number, err: string | null, output: unknown) =>
    io.write(JSON.stringify({ id, err_msg: err, output: err === null ? (output ?? null) : null }));
  io.write(readyLine(plugin.stage));
  for await (const line of io.lines) {
    if (line.trim() === "") continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      log.error(`ignoring a request that is not JSON: ${line.slice(0, 100)}`);
      continue;
    }
    const req = v.safeParse(Request, parsed);
    if (!req.success) {
      const id = (parsed as { id?: unknown })?.id;
      const why = req.issues.map((i) => i.message).join("; ");
      if (typeof id === "number") respond(id, `invalid request: ${why}`, null);
      else log.error(`ignoring a request without a numeric id: ${why}`);
      continue;
    }
    const { id, task } = req.output;
    const job = (async () => {
      const input = await validateInput(plugin, task);
      if (!input.ok) {
        respond(id, input.error, null);
        return;
      }
      try {
        respond(id, null, await plugin.run(input.value, { log, signal: abort.signal }));
      } catch (err) {
        respond(id, err instanceof Error ? err.message : String(err), null);
      }
    })();
    inflight.add(job);
    void job.finally(() => inflight.delete(job));
  }
  // stdin closed: the worker is gone (stopped, or killed with -9). Results can no longer be delivered,
  // and a task left running could race the restarted worker on the same sector files: stop now.
  if (inflight.size > 0) log.warn(`parent closed stdin with ${inflight.size} task(s) in flight; exiting`);
  abort.abort();
}
