import { closest } from "../../../core/config/unknown-keys.ts";
import { type DoctorContext, listWords, type ProcessorRef } from "../context.ts";
import { isRemoteProxy } from "../proxy.ts";

/**
 * Rule 3 (ext_locks): `<name> = <n>` lets n processors hold the lock at once, per task. Seed 000 lists
 * the misreadings: a count above 1 meant as "GPU number 2", a lock only one processor takes, a lock on
 * a stage that runs on a remote proxy. Besides: a lock named in `locks` but never defined stops our
 * worker at start (the original silently ignored it); a defined lock nobody names limits nothing.
 */
export function locksRule(ctx: DoctorContext): void {
  const defined = ctx.config.processors.ext_locks;
  const users = new Map<string, ProcessorRef[]>();
  for (const ref of ctx.processors) {
    for (const name of new Set(ref.proc.locks ?? [])) users.set(name, [...(users.get(name) ?? []), ref]);
  }
  const proxies = ctx.processors.filter((r) => isRemoteProxy(r.proc));

  for (const [name, refs] of users) {
    if (defined[name] !== undefined) continue;
    const guess = closest(name, Object.keys(defined));
    for (const ref of refs) {
      ctx.error(
        [...ref.keys, "locks"],
        `locks names "${name}", which [processors.ext_locks] does not define: the worker refuses to start ` +
          `("${ref.name}.locks: "${name}" is not defined in [processors.ext_locks]"; the original damocles-worker silently treated it as unlimited, ` +
          `so work meant to take turns ran at once). Fix: ${guess ? `did you mean "${guess}"? Otherwise ` : ""}add ${name} = 1 under [processors.ext_locks].`,
      );
    }
  }

  for (const [name, count] of Object.entries(defined)) {
    const keys = ["processors", "ext_locks", name];
    const refs = users.get(name) ?? [];
    if (refs.length === 0) {
      ctx.warn(
        keys,
        `ext_locks.${name} = ${count} is defined but no processor lists it in locks, so it limits nothing. Fix: add locks = ["${name}"] to the processors that must take turns, or remove it.`,
      );
      continue;
    }
    const local = refs.filter((r) => !isRemoteProxy(r.proc));
    if (count > 1 && (/gpu|cuda|card|dev/i.test(name) || count >= refs.length)) {
      ctx.warn(
        keys,
        `${name} = ${count} lets ${count} holders in at once (the number is how many processors may hold the lock together, not a GPU number), ` +
          (refs.length === 1
            ? `and only ${refs[0]!.name} takes it, so it never makes two processors take turns. Fix: ${name} = 1, listed in the locks of every processor sharing the device.`
            : `so ${listWords(refs.map((r) => r.name))} ${count >= refs.length ? "never wait for each other" : `can run ${count} at a time`}: the lock does not make them take turns. ` +
              `Fix: ${name} = 1 if they share one device.`),
      );
    } else if (local.length === 1 && refs.length === 1) {
      const proxyNote =
        proxies.length > 0
          ? ` (${listWords(proxies.map((p) => p.name))} run${proxies.length === 1 ? "s" : ""} on a remote proxy, so nothing here shares the GPU with it)`
          : "";
      ctx.warn(
        keys,
        `ext_locks.${name} is used only by ${refs[0]!.name}${proxyNote}: a lock makes processors of different stages take turns on one device, e.g. a pc2 and a c2 on one GPU; ` +
          `with one user it only limits that processor to ${count} task${count === 1 ? "" : "s"} at a time. ` +
          `Fix: list "${name}" in the locks of every processor sharing the device, or drop it (concurrent = ${count} says the same directly).`,
      );
    }
  }

  for (const ref of proxies) {
    const held = (ref.proc.locks ?? []).filter((l) => defined[l] !== undefined);
    if (held.length === 0) continue;
    const others = [...new Set(held.flatMap((l) => (users.get(l) ?? []).filter((r) => r !== ref).map((r) => r.name)))];
    ctx.warn(
      [...ref.keys, "locks"],
      `${ref.name} ${ref.proc.bin ? `runs bin "${ref.proc.bin}"` : `runs with args ${JSON.stringify(ref.proc.args ?? [])}`}, which sends its work to a remote machine, yet holds lock${held.length === 1 ? "" : "s"} ${held.join(", ")}: ` +
        `${others.length > 0 ? `${listWords(others)} wait${others.length === 1 ? "s" : ""} for a device this processor does not use` : "the lock guards nothing on this machine"}. ` +
        `Fix: remove locks from ${ref.name}.`,
    );
  }
}
