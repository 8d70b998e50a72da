import { runCommand } from "citty";
import { logger } from "../log/index.ts";
import { VERSION_STRING } from "../version.ts";
import { type AnyCommand, CliError, showUsageWithExamples } from "./command.ts";

async function resolveSubCommand(cmd: AnyCommand, rawArgs: string[]): Promise<[AnyCommand, AnyCommand?]> {
  let current = cmd;
  let parent: AnyCommand | undefined;
  for (const arg of rawArgs) {
    if (arg.startsWith("-")) break;
    const subs = typeof current.subCommands === "function" ? await current.subCommands() : await current.subCommands;
    const next = subs?.[arg];
    if (!next) break;
    parent = current;
    current = typeof next === "function" ? await next() : await next;
  }
  return [current, parent];
}

/**
 * Our own main loop instead of citty's runMain: operator errors (CliError) print one clear line with their
 * exit status, usage errors show the relevant help, and only real bugs print a stack.
 */
export async function runCli(cmd: AnyCommand, rawArgs = process.argv.slice(2)): Promise<void> {
  try {
    if (rawArgs.some((a) => a === "--help" || a === "-h") || rawArgs.length === 0) {
      await showUsageWithExamples(...(await resolveSubCommand(cmd, rawArgs)));
      return;
    }
    if (rawArgs.length === 1 && (rawArgs[0] === "--version" || rawArgs[0] === "-v")) {
      process.stdout.write(`${VERSION_STRING}\n`);
      return;
    }
    await runCommand(cmd, { rawArgs });
  } catch (err) {
    if (err instanceof CliError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(err.exitCode);
    }
    if (err instanceof Error && err.name === "CLIError") {
      await showUsageWithExamples(...(await resolveSubCommand(cmd, rawArgs)));
      process.stderr.write(`\n${err.message}\n`);
      process.exit(2);
    }
    logger.error(err);
    process.exit(1);
  }
}
