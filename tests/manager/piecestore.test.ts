import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createToken, ensureAuth, readAuthSecret, verifyToken } from "../../src/core/auth/index.ts";
import { runCli } from "../helpers/cli.ts";
import { startTestManager, type TestManager } from "./fixture.ts";
import { tempDir } from "./helpers.ts";
import { fakePieceCid } from "./market-helpers.ts";

let t: TestManager | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** Everything the process writes to stdout/stderr while fn runs. */
async function captureOutput(fn: () => Promise<void>): Promise<string> {
  const chunks: string[] = [];
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  const grab = (chunk: unknown) => {
    chunks.push(String(chunk));
    return true;
  };
  process.stdout.write = grab as typeof process.stdout.write;
  process.stderr.write = grab as typeof process.stderr.write;
  try {
    await fn();
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
  return chunks.join("");
}

describe("GET /piecestore/<piece-cid>", () => {
  test("serves piece files to a bearer of the manager's read token: 401, 400, 404, 200 with the bytes", async () => {
    t = await startTestManager();
    const token = (await runCli(["util", "market", "token", "--home", t.home])).stdout.trim();
    expect(await verifyToken(readAuthSecret(t.home)!, token)).toMatchObject({ name: "piecestore" });
    const forged = await createToken(crypto.getRandomValues(new Uint8Array(32)), { name: "x", perm: "admin" });

    const plain = fakePieceCid("plain");
    const car = fakePieceCid("car");
    const bytes = Buffer.from(Array.from({ length: 1500 }, (_, i) => (i * 7) % 256));
    writeFileSync(join(t.piecesPath, plain), bytes);
    writeFileSync(join(t.piecesPath, `${car}.car`), Buffer.from("car bytes"));

    const get = (name: string, auth?: string) =>
      fetch(`${t!.manager.url}/piecestore/${name}`, { headers: auth ? { authorization: auth } : {} });
    let answers: Response[] = [];
    const logged = await captureOutput(async () => {
      answers = [
        await get(plain),
        await get(plain, `Bearer ${forged}`),
        await get(plain, token),
        await get("not-a-cid", `Bearer ${token}`),
        await get("not-a-cid"),
        await get(fakePieceCid("missing"), `Bearer ${token}`),
        await get(plain, `Bearer ${token}`),
        await get(`${plain}.car`, `bearer ${token}`),
        await get(car, `Bearer ${t!.tokens.write}`),
        await get(`${car}.car`, `Bearer ${token}`),
      ];
    });
    expect(answers.map((r) => r.status)).toEqual([401, 401, 401, 400, 401, 404, 200, 200, 200, 200]);
    expect(answers[0]!.headers.get("www-authenticate")).toContain("Bearer");
    expect(await answers[3]!.text()).toContain("is not a CID");
    expect(Buffer.from(await answers[6]!.arrayBuffer())).toEqual(bytes);
    expect(answers[6]!.headers.get("content-length")).toBe("1500");
    expect(Buffer.from(await answers[7]!.arrayBuffer())).toEqual(bytes);
    expect(await answers[8]!.text()).toBe("car bytes");
    expect(logged).toContain("refused, invalid token (signature)"); // the log is captured…
    expect(logged).not.toContain(token); // …and never shows a token
    expect(logged).not.toContain(forged);
  });

  test("the secret and admin token: created once (0600), kept across restarts, a damaged one named with its fix", async () => {
    const dir = tempDir();
    try {
      expect(readAuthSecret(dir.path)).toBeUndefined();
      const first = await ensureAuth(dir.path);
      expect(first.created).toEqual([join(dir.path, "auth-secret"), join(dir.path, "token")]);
      for (const f of first.created) expect(statSync(f).mode & 0o777).toBe(0o600);
      const again = await ensureAuth(dir.path);
      expect(again.created).toEqual([]);
      expect(Buffer.from(again.secret)).toEqual(Buffer.from(first.secret));
      const admin = readFileSync(join(dir.path, "token"), "utf8").trim();
      expect([...(await verifyToken(first.secret, admin)).perms]).toEqual(["read", "write", "sign", "admin"]);

      writeFileSync(join(dir.path, "token"), ""); // a crash between create and write
      expect((await ensureAuth(dir.path)).created).toEqual([join(dir.path, "token")]);
      writeFileSync(join(dir.path, "auth-secret"), "garbage");
      expect(() => readAuthSecret(dir.path)).toThrow("does not hold an API secret");

      const none = await runCli(["util", "market", "token", "--home", join(dir.path, "empty"), "--api", "127.0.0.1:1"]);
      expect(none.code).not.toBe(0);
      expect(none.stderr).toContain("cannot talk to the manager");
    } finally {
      dir.remove();
    }
  });
});
