import type { ArgDef } from "citty";
import { type AnyCommand, CliError } from "./command.ts";

/**
 * Our reading of a command line before citty sees it. citty hands a subcommand only what follows its name, so
 * `damocles manager --home X init` lost `--home X` (and took `X` for a command), and it ignores options no
 * command declares. Here: options given before a subcommand travel to the command that runs, subcommand and
 * option names accept `_` and `-` alike (`enable_dump --child_pid`, as the Go tools spell them), and an option
 * the command does not know is an error naming it, never dropped.
 */

export interface ResolvedCommand {
  /** Canonical subcommand names from the root to `leaf`. */
  path: string[];
  leaf: AnyCommand;
  parent?: AnyCommand;
  /** The leaf's own arguments: options given before its name first, then everything after it. */
  args: string[];
}

type Resolvable<T> = T | Promise<T> | (() => T | Promise<T>);

async function resolveValue<T>(v: Resolvable<T>): Promise<T> {
  return typeof v === "function" ? await (v as () => T | Promise<T>)() : await v;
}

async function subCommandsOf(cmd: AnyCommand): Promise<Record<string, Resolvable<AnyCommand>>> {
  return cmd.subCommands ? ((await resolveValue(cmd.subCommands)) as Record<string, Resolvable<AnyCommand>>) : {};
}

const spelling = (name: string) => name.replaceAll("_", "-");

/** The subcommand `token` names (by name, alias, or either spelling), with its canonical name. */
async function findSubCommand(cmd: AnyCommand, token: string): Promise<[string, AnyCommand] | undefined> {
  const subs = await subCommandsOf(cmd);
  const wanted = spelling(token);
  for (const name of Object.keys(subs)) {
    if (spelling(name) === wanted) return [name, await resolveValue(subs[name]!)];
  }
  for (const [name, sub] of Object.entries(subs)) {
    const resolved = await resolveValue(sub);
    const meta = resolved.meta ? await resolveValue(resolved.meta) : undefined;
    const aliases = meta?.alias === undefined ? [] : Array.isArray(meta.alias) ? meta.alias : [meta.alias];
    if (aliases.some((a) => spelling(a) === wanted)) return [name, resolved];
  }
  return undefined;
}

/** An option token; `-` alone and negative numbers are values. */
export function isOption(token: string): boolean {
  return token.startsWith("-") && token !== "-" && token !== "--" && !/^-\d/.test(token);
}

/**
 * Walks subcommand names, collecting the options met on the way. An option before a subcommand takes the next
 * token as its value unless that token is an option or a subcommand name (`manager --home X daemon init`).
 */
export async function resolveCommand(root: AnyCommand, rawArgs: readonly string[]): Promise<ResolvedCommand> {
  const path: string[] = [];
  const hoisted: string[] = [];
  let leaf = root;
  let parent: AnyCommand | undefined;
  let i = 0;
  while (i < rawArgs.length && leaf.subCommands) {
    const token = rawArgs[i]!;
    if (token === "--") break;
    if (isOption(token)) {
      hoisted.push(token);
      const next = rawArgs[i + 1];
      const takesValue =
        !token.includes("=") &&
        next !== undefined &&
        !isOption(next) &&
        next !== "--" &&
        !(await findSubCommand(leaf, next));
      if (takesValue) hoisted.push(next);
      i += takesValue ? 2 : 1;
      continue;
    }
    const found = await findSubCommand(leaf, token);
    if (!found) break;
    path.push(found[0]);
    parent = leaf;
    leaf = found[1];
    i++;
  }
  return { path, leaf, parent, args: [...hoisted, ...rawArgs.slice(i)] };
}

interface KnownOption {
  name: string;
  type: ArgDef["type"];
}

const optionKey = (name: string) => (name.length === 1 ? name : name.replace(/[-_]/g, "").toLowerCase());

async function knownOptions(cmd: AnyCommand): Promise<Map<string, KnownOption>> {
  const defs = (cmd.args ? await resolveValue(cmd.args) : {}) as Record<string, ArgDef>;
  const known = new Map<string, KnownOption>();
  for (const [name, def] of Object.entries(defs)) {
    if (def.type === "positional") continue;
    const option = { name, type: def.type ?? "string" };
    const aliases = "alias" in def && def.alias !== undefined ? [def.alias].flat() : [];
    for (const n of [name, ...aliases]) known.set(optionKey(n), option);
  }
  return known;
}

/**
 * The leaf's arguments with every option in its declared spelling (`--child-pid` → `--child_pid`,
 * `-c` → `--config`), or a CliError naming the first option the command does not declare.
 */
export async function canonicalArgs(resolved: ResolvedCommand): Promise<string[]> {
  const { leaf, path, args } = resolved;
  if (leaf.subCommands) return args; // no command chosen yet: citty reports that
  const known = await knownOptions(leaf);
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const token = args[i]!;
    if (token === "--") {
      out.push(...args.slice(i));
      break;
    }
    if (!isOption(token)) {
      out.push(token);
      continue;
    }
    const eq = token.indexOf("=");
    const flag = eq < 0 ? token : token.slice(0, eq);
    const value = eq < 0 ? undefined : token.slice(eq);
    const name = flag.replace(/^--?/, "");
    const option = known.get(optionKey(name));
    const negated = !option && /^no[-_]/.test(name) ? known.get(optionKey(name.slice(3))) : undefined;
    if (negated?.type === "boolean") {
      out.push(`--no-${negated.name}`);
      continue;
    }
    if (!option) {
      const command = ["damocles", ...path].join(" ");
      throw new CliError(`unknown option ${flag} for '${command}' (see '${command} --help')`, 2);
    }
    out.push(`--${option.name}${value ?? ""}`);
    const next = args[i + 1];
    if (option.type !== "boolean" && value === undefined && next !== undefined && !isOption(next) && next !== "--") {
      out.push(next);
      i++;
    }
  }
  return [...path, ...out];
}
