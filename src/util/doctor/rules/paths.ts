import { isAbsolute, join, resolve } from "node:path";
import type { DoctorContext } from "../context.ts";

/**
 * Rule 5 (files): a processor `bin` that is missing or not executable, two sealing threads on one store,
 * sealing stores that were never initialised, and attached (persist) stores that are not there.
 * Stage-name typos such as `[[processors.windowpost]]` are the loader's (it warns with a did-you-mean);
 * this rule does not report them again.
 */
export function pathsRule(ctx: DoctorContext): void {
  binRule(ctx);
  threadRule(ctx);
  attachedRule(ctx);
}

function expand(ctx: DoctorContext, p: string): string {
  const fs = ctx.facts.fs;
  if (p === "~" || p.startsWith("~/")) return join(fs.home(), p.slice(1));
  return isAbsolute(p) ? p : resolve(fs.cwd(), p);
}

function binRule(ctx: DoctorContext): void {
  const fs = ctx.facts.fs;
  for (const ref of ctx.processors) {
    const bin = ref.proc.bin;
    if (!bin) continue;
    const keys = [...ref.keys, "bin"];
    const fails = `the processor cannot start and every ${ref.stage} task sent to it fails`;
    if (!bin.includes("/") && bin !== "~") {
      if (!fs.which(bin)) {
        ctx.error(
          keys,
          `bin "${bin}" is not found on PATH: ${fails} ("No such file or directory (os error 2)"). Fix: install it, or write the executable's absolute path.`,
        );
      }
      continue;
    }
    const path = expand(ctx, bin);
    const shown = path === bin ? `"${bin}"` : `"${bin}" (${path})`;
    const kind = fs.kind(path);
    if (kind === "missing") {
      ctx.error(
        keys,
        `bin ${shown} does not exist: ${fails} ("No such file or directory (os error 2)"). Fix: install it there, or correct the path.`,
      );
    } else if (kind !== "file") {
      ctx.error(
        keys,
        `bin ${shown} is ${kind === "dir" ? "a directory" : "not a regular file"}: ${fails} ("Permission denied (os error 13)"). Fix: point bin at the executable file.`,
      );
    } else if (!fs.executable(path)) {
      ctx.error(
        keys,
        `bin ${shown} is not executable: ${fails} ("Permission denied (os error 13)"). Fix: chmod +x ${path}.`,
      );
    }
  }
}

function threadRule(ctx: DoctorContext): void {
  const fs = ctx.facts.fs;
  const first = new Map<string, number>();
  for (const t of ctx.config.threads) {
    if (!t.location) continue;
    const keys = ["sealing_thread", t.index, "location"];
    const prev = first.get(t.location);
    if (prev !== undefined) {
      ctx.error(
        keys,
        `sealing_thread[${t.index}] uses the same location as sealing_thread[${prev}] (${t.location}): two threads would seal different sectors in one store ` +
          `and overwrite each other's files and state. Fix: give every sealing thread its own directory.`,
      );
      continue;
    }
    first.set(t.location, t.index);
    const kind = fs.kind(t.location);
    const init = `damocles worker store sealing-init -l ${t.location}`;
    if (kind === "missing") {
      ctx.error(
        keys,
        `sealing store ${t.location} does not exist: the thread has nowhere to put its sectors and fails at its first task. Fix: ${init}.`,
      );
    } else if (kind !== "dir") {
      ctx.error(
        keys,
        `sealing store ${t.location} is not a directory: the thread cannot use it. Fix: point location at a directory and run ${init}.`,
      );
    } else if (fs.kind(join(t.location, ".holder")) === "missing") {
      ctx.warn(
        keys,
        `sealing store ${t.location} is not initialised (no .holder: sealing-init was not run there), so the data/ and meta/ directories the thread writes to may be missing. Fix: ${init}.`,
      );
    }
  }
}

function attachedRule(ctx: DoctorContext): void {
  const fs = ctx.facts.fs;
  // config.attached is [[attached]] followed by the legacy [remote_store]; tell them apart by the file's keys.
  let declared = 0;
  while (ctx.has(["attached", declared])) declared++;
  ctx.config.attached.forEach((a, i) => {
    const keys =
      i >= declared && ctx.has(["remote_store"]) ? ["remote_store", "location"] : ["attached", i, "location"];
    const kind = fs.kind(a.location);
    if (kind === "dir") return;
    const what = kind === "missing" ? "does not exist" : "is not a directory";
    ctx.error(
      keys,
      `attached store ${a.name === a.location ? "" : `"${a.name}" `}at ${a.location} ${what}: finished sectors cannot be moved there (the transfer after C2 fails and sectors stop before FinalizeSector) ` +
        `and WindowPoSt cannot read the sectors stored there. Fix: mount the store at ${a.location}, or correct location.`,
    );
  });
}
