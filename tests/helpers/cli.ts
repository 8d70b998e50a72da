import { join } from "node:path";

export const REPO = join(import.meta.dir, "../..");
export const ENTRY = join(REPO, "bin/damocles.ts");
export const COMPILED = join(REPO, "dist/damocles");

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the CLI from source (same code as the compiled binary, without a rebuild per edit). */
export async function runCli(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; stdin?: string } = {},
): Promise<RunResult> {
  const proc = Bun.spawn([process.execPath, ENTRY, ...args], {
    cwd: opts.cwd ?? REPO,
    env: { ...process.env, NO_COLOR: "1", ...opts.env },
    stdin: opts.stdin === undefined ? "ignore" : new Blob([opts.stdin]),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}
