import { afterEach, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Market } from "../../src/core/sector/api-market.ts";
import { runCli } from "../helpers/cli.ts";
import { startTestManager, type TestManager } from "./fixture.ts";
import { fakePieceCid } from "./market-helpers.ts";

/**
 * `util market retrieve` from a stored copy: the bytes come through /piecestore/ with the piece token from the
 * manager's home and are checked against the piece CID (the real CommP) before OUT appears. The path that
 * unseals from a sealed sector runs in ./scripts/demo --deals and tests/worker/unseal-e2e.test.ts.
 */
let t: TestManager | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

test("retrieve: the stored copy, byte for byte; a tampered copy or an unknown piece writes nothing", async () => {
  t = await startTestManager();
  const data = crypto.getRandomValues(new Uint8Array(700));
  const src = join(t.home, "data.bin");
  writeFileSync(src, data);
  const deal = await t.client.call(Market.Import, src, { StartEpoch: 100_000 });
  const cid = deal.PieceCID["/"];
  const api = new URL(t.manager.url).host;
  const retrieve = (piece: string, out: string) =>
    runCli(["util", "market", "retrieve", piece, out, "--api", api, "--home", t!.home]);

  const out = join(t.home, "out.bin");
  const ok = await retrieve(cid, out);
  expect(ok.stderr).toBe("");
  expect(ok.code).toBe(0);
  expect(ok.stdout).toContain(`${cid}: 700 bytes written to ${out} (from piece store pieces)`);
  expect(Buffer.from(readFileSync(out))).toEqual(Buffer.from(data));

  const stored = join(t.piecesPath, cid);
  const tampered = Buffer.from(readFileSync(stored));
  tampered[10]! ^= 0xff;
  writeFileSync(stored, tampered);
  const bad = join(t.home, "bad.bin");
  const refused = await retrieve(cid, bad);
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toContain(`not ${cid}: nothing written`);
  expect(existsSync(bad)).toBe(false);

  const unknown = await retrieve(fakePieceCid("nobody"), join(t.home, "none.bin"));
  expect(unknown.code).not.toBe(0);
  expect(unknown.stderr).toContain("no deal of this market has piece");
}, 60_000);
