import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { consola } from "consola";
import { Failure } from "../../core/errors/index.ts";
import { builtinPlugins } from "../../plugins/index.ts";
import { type DeliveryContext, deliverPiece } from "./unseal-deliver.ts";

const transfer = builtinPlugins.find((p) => p.stage === "transfer")!;
const tmp = mkdtempSync(join(tmpdir(), "damocles-unseal-deliver-"));
const piece = join(tmp, "piece");
writeFileSync(piece, Buffer.from("unsealed piece bytes"));
const store = join(tmp, "store");
mkdirSync(store);

const statuses = new Map<string, number>();
const seen: { path: string; auth: string | null; body: string }[] = [];
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  async fetch(req) {
    const path = new URL(req.url).pathname + new URL(req.url).search;
    seen.push({ path, auth: req.headers.get("authorization"), body: await req.text() });
    return new Response("answer", { status: statuses.get(new URL(req.url).pathname) ?? 200 });
  },
});
afterAll(() => {
  server.stop(true);
  rmSync(tmp, { recursive: true, force: true });
});

const ctx: DeliveryContext = {
  attached: [
    { name: "pieces", location: store, readonly: false },
    { name: "ro", location: store, readonly: true },
  ],
  pieceToken: "tok",
  managerToken: "manager-token",
  pieceStoreUrl: `http://127.0.0.1:${server.port}/piecestore`,
  transfer: (task) => transfer.run(task as never, { log: consola, signal: AbortSignal.timeout(5000) }),
  call: { signal: AbortSignal.timeout(30_000), log: consola },
};

async function level(p: Promise<void>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (err) {
    return err instanceof Failure ? `${err.level}: ${err.message}` : `untyped: ${(err as Error).message}`;
  }
}

describe("deliverPiece", () => {
  test("file:// writes the whole piece under the final name only, creating directories", async () => {
    const dest = join(tmp, "out", "deep", "p.bin");
    expect(await level(deliverPiece(`file://${dest}`, piece, ctx))).toBe("ok");
    expect(readFileSync(dest, "utf8")).toBe("unsealed piece bytes");
    expect(readdirSync(join(tmp, "out", "deep"))).toEqual(["p.bin"]);
  });

  test("http:// is a PUT with the piece token; 5xx is retried, other refusals are not", async () => {
    const base = `http://127.0.0.1:${server.port}`;
    expect(await level(deliverPiece(`${base}/ok`, piece, ctx))).toBe("ok");
    expect(seen.at(-1)).toEqual({ path: "/ok", auth: "Bearer tok", body: "unsealed piece bytes" });
    statuses.set("/busy", 503);
    statuses.set("/denied", 401);
    expect(await level(deliverPiece(`${base}/busy`, piece, ctx))).toMatch(
      /^temporary: PUT .*\/busy answered HTTP 503: answer/,
    );
    expect(await level(deliverPiece(`${base}/denied`, piece, ctx))).toMatch(/^permanent: .* answered HTTP 401/);
    expect(await level(deliverPiece("http://127.0.0.1:1/none", piece, ctx))).toMatch(/^temporary: PUT/);
  });

  test("store:// copies into a writable attached store; the manager's piece store and market are PUTs", async () => {
    expect(await level(deliverPiece("store://pieces/a/b.bin", piece, ctx))).toBe("ok");
    expect(readFileSync(join(store, "a", "b.bin"), "utf8")).toBe("unsealed piece bytes");
    expect(await level(deliverPiece("store://ro/a/c.bin", piece, ctx))).toMatch(/^permanent: .*attached read-only/);
    expect(await level(deliverPiece("store://other/x", piece, ctx))).toMatch(
      /^permanent: .*"other" is not among this worker's \[\[attached\]\] stores \(it has: pieces, ro\)/,
    );
    expect(await level(deliverPiece("store://pieces/a%2F..%2F..%2Fescape", piece, ctx))).toMatch(
      /leaves store "pieces"/,
    );

    expect(await level(deliverPiece("store:///bagapiece", piece, ctx))).toBe("ok");
    expect(seen.at(-1)).toMatchObject({ path: "/piecestore/bagapiece", auth: "Bearer manager-token" });
    const market = `market://s1/bagapiece?host=127.0.0.1:${server.port}&scheme=http&token=mtok`;
    expect(await level(deliverPiece(market, piece, ctx))).toBe("ok");
    expect(seen.at(-1)).toMatchObject({ path: "/resource?resource-id=bagapiece&store=s1", auth: "Bearer mtok" });
  });
});
