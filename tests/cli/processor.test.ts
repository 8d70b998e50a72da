import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ENTRY } from "../helpers/cli.ts";

const tmp = mkdtempSync(join(tmpdir(), "damocles-proc-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A real child over real pipes, speaking the vc-processors protocol. */
test("processor transfer: ready line, NDJSON by id, errors as err_msg, garbage ignored", async () => {
  mkdirSync(join(tmp, "src"));
  writeFileSync(join(tmp, "src", "sealed"), "sector bytes");
  const child = Bun.spawn([process.execPath, ENTRY, "processor", "transfer"], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
  });
  const reader = child.stdout.getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  const nextLine = async (): Promise<string> => {
    for (;;) {
      const nl = buffered.indexOf("\n");
      if (nl >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        return line;
      }
      const { value, done } = await reader.read();
      if (done) throw new Error("processor closed stdout");
      buffered += decoder.decode(value, { stream: true });
    }
  };
  expect(await nextLine()).toBe("transfer processor ready");
  // The original's wire: absolute uris; stores describe the stores but are not used to resolve paths.
  const stores = { "persist-1": { name: "persist-1", meta: null } };
  child.stdin.write("this is not json\n");
  child.stdin.write(
    `${JSON.stringify({ id: 7, task: { stores, routes: [{ src: { store_name: null, uri: join(tmp, "src", "sealed") }, dest: { store_name: "persist-1", uri: join(tmp, "dst", "sealed") }, opt: null }] } })}\n`,
  );
  child.stdin.write(
    `${JSON.stringify({ id: 8, task: { stores, routes: [{ src: { uri: join(tmp, "src", "missing") }, dest: { uri: "/tmp/x" } }] } })}\n`,
  );
  child.stdin.write(`${JSON.stringify({ id: 9, task: { routes: "nope" } })}\n`);
  child.stdin.flush();
  const responses = new Map<number, { err_msg: string | null; output: unknown }>();
  for (let i = 0; i < 3; i++) {
    const r = JSON.parse(await nextLine());
    responses.set(r.id, r);
  }
  child.stdin.end();
  expect(await child.exited).toBe(0);
  expect(responses.get(7)).toEqual({ id: 7, err_msg: null, output: true } as never);
  expect(readFileSync(join(tmp, "dst", "sealed"), "utf8")).toBe("sector bytes");
  expect(responses.get(8)?.err_msg).toContain("does not exist");
  expect(responses.get(9)?.err_msg).toContain("invalid transfer task");
  const stderr = await new Response(child.stderr).text();
  expect(stderr).toContain("not JSON");
});
