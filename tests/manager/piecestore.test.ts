import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensurePieceToken, readPieceToken } from "../../src/core/config/piece-token.ts";
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
  test("serves piece files to the bearer of the piece token: 401, 400, 404, 200 with the bytes", async () => {
    t = await startTestManager();
    const tokenFile = join(t.home, "piece-token");
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    const token = readFileSync(tokenFile, "utf8").trim();
    expect(token).toMatch(/^[0-9a-f]{64}$/);

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
        await get(plain, `Bearer ${"0".repeat(64)}`),
        await get(plain, token),
        await get("not-a-cid", `Bearer ${token}`),
        await get("not-a-cid"),
        await get(fakePieceCid("missing"), `Bearer ${token}`),
        await get(plain, `Bearer ${token}`),
        await get(`${plain}.car`, `bearer ${token}`),
        await get(car, `Bearer ${token}`),
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
    expect(logged).toContain("refused, wrong bearer token"); // the log is captured…
    expect(logged).not.toContain(token); // …and never shows the token

    const cli = await runCli(["util", "market", "token", "--home", t.home]);
    expect(cli).toMatchObject({ code: 0, stdout: `${token}\n` });
  });

  test("the token survives restarts; a home without one gets one; `util market token` says how to make one", async () => {
    const dir = tempDir();
    try {
      expect(readPieceToken(dir.path)).toBeUndefined();
      const first = ensurePieceToken(dir.path);
      expect(ensurePieceToken(dir.path)).toBe(first);
      writeFileSync(join(dir.path, "piece-token"), "");
      const fresh = ensurePieceToken(dir.path);
      expect(fresh).not.toBe(first);
      expect(statSync(join(dir.path, "piece-token")).mode & 0o777).toBe(0o600);
      writeFileSync(join(dir.path, "piece-token"), "garbage");
      expect(() => readPieceToken(dir.path)).toThrow("does not hold a piece token");

      const none = await runCli(["util", "market", "token", "--home", join(dir.path, "empty")]);
      expect(none.code).not.toBe(0);
      expect(none.stderr).toContain("damocles manager init");
    } finally {
      dir.remove();
    }
  });
});
