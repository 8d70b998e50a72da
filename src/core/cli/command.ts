import { type ArgsDef, type CommandDef, defineCommand, renderUsage } from "citty";

/**
 * citty has no notion of usage examples, but operators learn a tool from them first.
 * Commands declare `examples`; the usage renderer appends them under the generated help.
 */
/** citty's CommandDef is invariant in its args, so a command of any args needs the wildcard. */
// biome-ignore lint/suspicious/noExplicitAny: see above; confined to this one alias.
export type AnyCommand = CommandDef<any>;

const examplesByCommand = new WeakMap<AnyCommand, readonly string[]>();

export type CommandWithExamples<T extends ArgsDef> = CommandDef<T> & { examples?: readonly string[] };

export function command<const T extends ArgsDef = ArgsDef>(def: CommandWithExamples<T>): CommandDef<T> {
  const { examples, ...rest } = def;
  const cmd = defineCommand(rest as CommandDef<T>);
  if (examples && examples.length > 0) examplesByCommand.set(cmd, examples);
  return cmd;
}

export async function renderUsageWithExamples(cmd: AnyCommand, parent?: AnyCommand): Promise<string> {
  const usage = await renderUsage(cmd, parent);
  const examples = examplesByCommand.get(cmd);
  if (!examples) return usage;
  return `${usage}\n\nEXAMPLES\n\n${examples.map((e) => `  $ ${e}`).join("\n")}\n`;
}

export async function showUsageWithExamples(cmd: AnyCommand, parent?: AnyCommand): Promise<void> {
  process.stdout.write(`${await renderUsageWithExamples(cmd, parent)}\n`);
}

/** Error meant for the operator: printed as one clear message, no stack, non-zero exit. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = "CliError";
  }
}
