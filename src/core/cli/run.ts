import { runCommand } from "citty";
import { logger } from "../log/index.ts";
import { VERSION_STRING } from "../version.ts";
import { canonicalArgs, resolveCommand } from "./argv.ts";
import { type AnyCommand, CliError, showUsageWithExamples } from "./command.ts";

/**
 * Our own main loop instead of citty's runMain: operator errors (CliError) print one clear line with their
 * exit status, usage errors show the relevant help, and only real bugs print a stack. The command line is read
 * by argv.ts first (options before a subcommand reach it; unknown options are errors).
 */
export async function runCli(cmd: AnyCommand, rawArgs = process.argv.slice(2)): Promise<void> {
  try {
    // After `--` the words belong to another program (processor-exec's PROGRAM ARGS...), help included.
    const own = rawArgs.includes("--") ? rawArgs.slice(0, rawArgs.indexOf("--")) : rawArgs;
    if (own.some((a) => a === "--help" || a === "-h") || rawArgs.length === 0) {
      const { leaf, parent } = await resolveCommand(cmd, rawArgs);
      await showUsageWithExamples(leaf, parent);
      return;
    }
    if (rawArgs.length === 1 && (rawArgs[0] === "--version" || rawArgs[0] === "-v")) {
      process.stdout.write(`${VERSION_STRING}\n`);
      return;
    }
    await runCommand(cmd, { rawArgs: await canonicalArgs(await resolveCommand(cmd, rawArgs)) });
  } catch (err) {
    if (err instanceof CliError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(err.exitCode);
    }
    if (err instanceof Error && err.name === "CLIError") {
      const { leaf, parent } = await resolveCommand(cmd, rawArgs);
      await showUsageWithExamples(leaf, parent);
      process.stderr.write(`\n${err.message}\n`);
      process.exit(2);
    }
    logger.error(err);
    process.exit(1);
  }
}
