import { expect, test } from "bun:test";
import { ENTRY } from "../helpers/cli.ts";

/**
 * Seed 000's "Too many open files": daemons and processor children raise their soft limit at start, and log
 * the limit in force. (Bun itself already lifts the soft limit when it starts; the explicit call makes the
 * limit a checked, logged fact rather than a runtime detail.) Started under `ulimit -S -n 256`.
 */
const underLowLimit = (cmd: string) =>
  Bun.spawn(["bash", "-c", `ulimit -S -n 256 && exec ${cmd}`], { stdin: "pipe", stdout: "pipe", stderr: "pipe" });

test("raiseOpenFilesLimit leaves the soft limit at the hard one and says which", async () => {
  const script = `import { raiseOpenFilesLimit } from "${import.meta.dir}/../../src/core/proofs/index.ts";
import { logger } from "${import.meta.dir}/../../src/core/log/index.ts";
const lim = raiseOpenFilesLimit(logger);
const fd = (await Bun.file("/proc/self/limits").text()).split("\\n").find((l) => l.startsWith("Max open files"));
console.log(JSON.stringify({ lim, fd }));`;
  const p = underLowLimit(`${process.execPath} -e '${script.replaceAll("'", "'\\''")}'`);
  const [out, err] = [await new Response(p.stdout).text(), await new Response(p.stderr).text()];
  expect(await p.exited).toBe(0);
  const { lim, fd } = JSON.parse(out) as { lim: { soft: number; hard: number; before: number }; fd: string };
  const nrOpen = Number((await Bun.file("/proc/sys/fs/nr_open").text()).trim());
  expect(lim.soft).toBe(Math.min(lim.hard, nrOpen));
  expect(lim.soft).toBeGreaterThan(256);
  expect(fd).toMatch(new RegExp(`^Max open files\\s+${lim.soft}\\s`));
  expect(err).toMatch(new RegExp(`open files limit (raised from \\d+ to )?${lim.soft} \\(hard limit `));
});

test("a processor child raises its limit before serving its stage", async () => {
  const p = underLowLimit(`${process.execPath} ${ENTRY} processor transfer`);
  const ready = await (async () => {
    const reader = p.stdout.getReader();
    const { value } = await reader.read();
    reader.releaseLock();
    return new TextDecoder().decode(value);
  })();
  expect(ready).toBe("transfer processor ready\n");
  p.stdin.end();
  expect(await p.exited).toBe(0);
  expect(await new Response(p.stderr).text()).toMatch(
    /\[processor transfer\] open files limit (raised from \d+ to )?\d+ \(hard limit/,
  );
});
