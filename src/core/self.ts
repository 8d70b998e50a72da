/**
 * How to start this same program again: the compiled executable runs as itself; from source, Bun runs
 * the entry script. Processor children and daemons spawned for tests use this.
 */
export function selfCommand(): string[] {
  const compiled = Bun.main.startsWith("/$bunfs/") || Bun.main.startsWith("B:/~BUN/");
  return compiled ? [process.execPath] : [process.execPath, Bun.main];
}
