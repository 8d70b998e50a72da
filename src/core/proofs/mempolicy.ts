import type { ConsolaInstance } from "consola";
import { native } from "./native.ts";

/**
 * NUMA memory placement without numactl (`numa_preferred`): set_mempolicy/get_mempolicy through the addon.
 * A policy belongs to one thread and is inherited by the threads it creates and by a program it execs, so
 * a processor child gets it from a launcher that sets it and then execs the processor (see
 * crates/proofs-ffi/src/mempolicy.rs for why setting it inside a running Bun process is not enough).
 */
export interface MemoryPolicy {
  /** default | preferred | bind | interleave | local | preferred-many | weighted-interleave */
  mode: string;
  /** The policy's nodes: the preferred node for `preferred`; empty for `default` and `local`. */
  nodes: number[];
}

/**
 * Makes the calling thread prefer memory on NUMA node `node` and returns the policy read back. Throws an
 * Error naming the node, the nodes there are and the fix when the kernel refuses (or off Linux).
 */
export function preferNumaNode(node: number): MemoryPolicy {
  return native().preferNumaNode(node);
}

/** The calling thread's memory policy, read with get_mempolicy. */
export function memoryPolicy(): MemoryPolicy {
  return native().memoryPolicy();
}

/** Replaces this process with `argv` (pid, environment, stdio and memory policy kept); throws when the exec fails. */
export function execProgram(argv: readonly string[]): never {
  native().execProgram([...argv]);
  throw new Error(`exec of ${argv[0]} returned without an error`);
}

/** "preferred node 0", "default (memory comes from the node of the CPU that touches it first)", "bind nodes 0,1". */
export function describeMemoryPolicy(p: MemoryPolicy): string {
  if (p.mode === "default") return "default (memory comes from the node of the CPU that first touches it)";
  if (p.nodes.length === 0) return p.mode;
  return `${p.mode} node${p.nodes.length === 1 ? "" : "s"} ${p.nodes.join(",")}`;
}

/**
 * Logs the memory policy in force on this thread (a processor child at start). When the worker asked for a
 * node (VENUS_WORKER_NUMA_PREFERRED, which the original's processors read too) and the policy differs, the
 * child was started without the launcher that sets it: say so, since its memory may land on any node.
 */
export function logMemoryPolicy(log: ConsolaInstance, env: NodeJS.ProcessEnv = process.env): MemoryPolicy | undefined {
  const wanted = env.VENUS_WORKER_NUMA_PREFERRED;
  let p: MemoryPolicy;
  try {
    p = memoryPolicy();
  } catch (err) {
    // Containers often refuse get_mempolicy (seccomp without CAP_SYS_NICE): only news when a node was asked for.
    const msg = `memory policy unknown: ${(err as Error).message}`;
    if (wanted === undefined) log.debug(msg);
    else log.warn(msg);
    return undefined;
  }
  const applied = p.mode === "preferred" && p.nodes.length === 1 && String(p.nodes[0]) === wanted;
  if (wanted === undefined || applied) log.info(`memory policy in force: ${describeMemoryPolicy(p)}`);
  else
    log.warn(
      `memory policy in force: ${describeMemoryPolicy(p)}, although VENUS_WORKER_NUMA_PREFERRED=${wanted}: ` +
        "this processor was not started through damocles' placement launcher (damocles processor-exec); " +
        "start it from a damocles worker with numa_preferred, or under numactl --preferred",
    );
  return p;
}
