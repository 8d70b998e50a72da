import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import type { ConsolaInstance } from "consola";
import * as v from "valibot";
import { childLogger } from "../log/index.ts";
import { describeMemoryPolicy, type MemoryPolicy } from "../proofs/index.ts";
import { sleep } from "../sync/semaphore.ts";
import { readyLine } from "./consumer.ts";
import { type Placement, placeProcessor } from "./isolation.ts";
import { type LauncherReport, parseLauncherReport } from "./launcher.ts";
import { linesOf } from "./lines.ts";

/**
 * The parent side of the vc-processors protocol: one child process per `[[processors.<stage>]]` entry.
 * Requests are NDJSON `{id, task}`; responses `{id, err_msg, output}` are matched by id. A child that
 * exits fails its in-flight tasks with a clear error and is restarted (auto_restart); one that prints
 * anything but protocol lines on stdout is broken, and its in-flight tasks fail with the first bytes.
 */

export interface ChildSpec {
  stage: string;
  index: number;
  /** Full command: program and its arguments. */
  command: string[];
  /** Complete environment of the child (nothing is inherited implicitly). */
  env: Record<string, string>;
  stableWaitMs: number;
  autoRestart: boolean;
  cpuset?: string;
  cgroupGroupName?: string;
  numaPreferred?: number;
  /** How to run damocles itself, for the numa_preferred launcher; default: this program. */
  self?: readonly string[];
  /** Delay before a restart; doubled while the child keeps dying within a minute, up to a minute. */
  restartDelayMs?: number;
}

export class ProcessorError extends Error {
  constructor(
    message: string,
    readonly kind: "exited" | "protocol" | "not-ready" | "task",
  ) {
    super(message);
    this.name = "ProcessorError";
  }
}

const Response = v.object({
  id: v.number(),
  err_msg: v.nullish(v.string()),
  output: v.optional(v.unknown()),
});

interface Pending {
  resolve: (output: unknown) => void;
  reject: (err: Error) => void;
}

export type ProcessorState = "starting" | "ready" | "restarting" | "stopped";

type Handshake = { kind: "line"; line: string } | { kind: "closed" } | { kind: "timeout" };

/**
 * The child's first protocol line, after the placement launcher's report lines when it was started through
 * one (numa_preferred); both within `stableWaitMs`. A launcher error ends the handshake at once.
 */
async function handshake(
  lines: AsyncGenerator<string>,
  stableWaitMs: number,
): Promise<{ first: Handshake; launcher?: LauncherReport }> {
  const timeout = sleep(stableWaitMs).then((): Handshake => ({ kind: "timeout" }));
  let launcher: LauncherReport | undefined;
  for (;;) {
    const first = await Promise.race([
      lines.next().then((r): Handshake => (r.done ? { kind: "closed" } : { kind: "line", line: r.value })),
      timeout,
    ]);
    const report = first.kind === "line" ? parseLauncherReport(first.line) : undefined;
    if (!report || "error" in report) return { first, launcher: report ?? launcher };
    launcher = report;
  }
}

/** What `worker list` shows about one processor child. */
export interface ProcessorStatus {
  stage: string;
  index: number;
  pid: number | null;
  state: ProcessorState;
  restarts: number;
  /** How its CPUs and memory were placed ("cpuset 0-3 via cgroup v2 …; memory prefers NUMA node 0 …"). */
  placement: string;
  /** The memory policy the launcher read back in the child before exec; null without numa_preferred. */
  memoryPolicy: MemoryPolicy | null;
}

export class ProcessorChild {
  readonly log: ConsolaInstance;
  private proc: Subprocess<"pipe", "pipe", "inherit"> | undefined;
  private placement: Placement | undefined;
  private pending = new Map<number, Pending>();
  private nextId = 1;
  private state: ProcessorState = "starting";
  private memoryPolicy: MemoryPolicy | undefined;
  private restarts = 0;
  private lastStart = 0;
  private readyWaiters: (() => void)[] = [];
  private stopping = false;
  private exitedPromise: Promise<void> = Promise.resolve();

  constructor(readonly spec: ChildSpec) {
    this.log = childLogger(`processor:${spec.stage}#${spec.index}`);
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  get inflight(): number {
    return this.pending.size;
  }

  get isReady(): boolean {
    return this.state === "ready";
  }

  /** Exited with auto_restart off, or stopped by the worker: it will not come back. */
  get isStopped(): boolean {
    return this.state === "stopped";
  }

  get restartCount(): number {
    return this.restarts;
  }

  status(): ProcessorStatus {
    return {
      stage: this.spec.stage,
      index: this.spec.index,
      pid: this.state === "stopped" ? null : (this.proc?.pid ?? null),
      state: this.state,
      restarts: this.restarts,
      placement: this.placement?.description ?? "-",
      memoryPolicy: this.memoryPolicy ?? null,
    };
  }

  /** Spawn and wait for the ready line; throws ProcessorError("not-ready") after stable_wait. */
  async start(): Promise<void> {
    this.state = "starting";
    this.lastStart = Date.now();
    const s = this.spec;
    this.placement = placeProcessor({
      stage: s.stage,
      index: s.index,
      cpuset: s.cpuset,
      groupName: s.cgroupGroupName ?? "vc-worker",
      numaPreferred: s.numaPreferred,
      self: s.self,
    });
    const cmd = [...this.placement.prefix, ...s.command];
    const proc = Bun.spawn(cmd, {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "inherit",
      env: { ...s.env, ...this.placement.env },
    });
    this.proc = proc;
    this.exitedPromise = proc.exited.then((code) => this.onExit(proc, code));
    const lines = linesOf(proc.stdout);
    const { first, launcher } = await handshake(lines, s.stableWaitMs);
    this.memoryPolicy = launcher && "memory_policy" in launcher ? launcher.memory_policy : undefined;
    const expected = readyLine(s.stage);
    if (launcher && "error" in launcher) {
      proc.kill("SIGKILL");
      await proc.exited;
      throw new ProcessorError(
        `processor ${s.stage}#${s.index} (${cmd.join(" ")}) did not become ready: ${launcher.error}`,
        "not-ready",
      );
    }
    if (first.kind !== "line" || first.line !== expected) {
      const why =
        first.kind === "timeout"
          ? `no "${expected}" line within ${s.stableWaitMs}ms`
          : first.kind === "closed"
            ? "it exited before announcing itself"
            : `its first line was ${JSON.stringify(first.line.slice(0, 100))} instead of "${expected}"`;
      proc.kill("SIGKILL");
      await proc.exited;
      throw new ProcessorError(
        `processor ${s.stage}#${s.index} (${cmd.join(" ")}) did not become ready: ${why}`,
        "not-ready",
      );
    }
    this.state = "ready";
    const policy = this.memoryPolicy ? `; memory policy in force: ${describeMemoryPolicy(this.memoryPolicy)}` : "";
    this.log.info(`ready (pid ${proc.pid}; ${this.placement.description}${policy})`);
    for (const w of this.readyWaiters.splice(0)) w();
    void this.pump(proc, lines);
  }

  /** Send one task; resolves with the child's output or rejects with its err_msg / a protocol failure. */
  async call(task: unknown): Promise<unknown> {
    if (this.state !== "ready") await this.whenReady();
    const proc = this.proc;
    if (!proc || this.state !== "ready")
      throw new ProcessorError(`processor ${this.spec.stage}#${this.spec.index} is not running`, "exited");
    const id = this.nextId++;
    const result = new Promise<unknown>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    proc.stdin.write(`${JSON.stringify({ id, task })}\n`);
    proc.stdin.flush();
    return result;
  }

  whenReady(): Promise<void> {
    if (this.state === "ready") return Promise.resolve();
    if (this.state === "stopped")
      return Promise.reject(new ProcessorError(`processor ${this.spec.stage}#${this.spec.index} is stopped`, "exited"));
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.state = "stopped";
    this.proc?.stdin.end();
    this.proc?.kill("SIGTERM");
    await this.exitedPromise;
  }

  private async pump(proc: Subprocess<"pipe", "pipe", "inherit">, lines: AsyncGenerator<string>): Promise<void> {
    for await (const line of lines) {
      if (this.proc !== proc) return;
      if (line.trim() === "") continue;
      let parsed: v.SafeParseResult<typeof Response> | undefined;
      try {
        parsed = v.safeParse(Response, JSON.parse(line));
      } catch {
        parsed = undefined;
      }
      if (!parsed?.success) {
        this.onGarbage(proc, line);
        continue;
      }
      const { id, err_msg, output } = parsed.output;
      const waiter = this.pending.get(id);
      if (!waiter) {
        this.log.warn(`response for unknown request id ${id} ignored`);
        continue;
      }
      this.pending.delete(id);
      if (err_msg) waiter.reject(new ProcessorError(err_msg, "task"));
      else waiter.resolve(output ?? null);
    }
  }

  /** A non-protocol stdout line: dump it if asked (worker enable-dump), and fail what is in flight. */
  private onGarbage(proc: Subprocess<"pipe", "pipe", "inherit">, line: string): void {
    const head = line.slice(0, 100);
    const dumpDir = process.env[`DUMP_ERR_RESP_${proc.pid}`];
    let dumped = "";
    if (dumpDir) {
      try {
        mkdirSync(dumpDir, { recursive: true });
        const file = join(dumpDir, `ext-processor-err-resp-${proc.pid}-${crypto.randomUUID()}.json`);
        writeFileSync(file, line);
        dumped = `; full line dumped to ${file}`;
      } catch (err) {
        dumped = `; dump to ${dumpDir} failed: ${(err as Error).message}`;
      }
    }
    const msg = `processor ${this.spec.stage}#${this.spec.index} (pid ${proc.pid}) printed a line that is not a protocol response: ${JSON.stringify(head)}${line.length > 100 ? "…" : ""} (logs must go to stderr${dumpDir ? "" : `; capture full lines with 'damocles worker enable-dump --child_pid ${proc.pid} --dump_dir DIR'`})${dumped}`;
    this.log.error(msg);
    this.failAll(new ProcessorError(msg, "protocol"));
  }

  private failAll(err: Error): void {
    const waiters = [...this.pending.values()];
    this.pending.clear();
    for (const w of waiters) w.reject(err);
  }

  private async onExit(proc: Subprocess<"pipe", "pipe", "inherit">, code: number | null): Promise<void> {
    this.placement?.cleanup();
    if (this.proc !== proc) return;
    const how = proc.signalCode ? `signal ${proc.signalCode}` : `exit code ${code}`;
    this.failAll(new ProcessorError(`child process exited: ${this.spec.stage} (pid ${proc.pid}, ${how})`, "exited"));
    if (this.stopping || this.state === "starting") return;
    this.log.warn(`exited (${how})${this.spec.autoRestart ? "; restarting" : "; auto_restart is off"}`);
    if (!this.spec.autoRestart) {
      this.state = "stopped";
      return;
    }
    this.state = "restarting";
    const base = this.spec.restartDelayMs ?? 3000;
    const quickDeath = Date.now() - this.lastStart < 60_000;
    const delay = quickDeath ? Math.min(base * 2 ** Math.min(this.restarts, 5), 60_000) : base;
    this.restarts++;
    for (;;) {
      await sleep(delay);
      if (this.stopping) return;
      try {
        await this.start();
        return;
      } catch (err) {
        this.log.error((err as Error).message);
      }
    }
  }
}
