import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Failure } from "../../core/errors/index.ts";
import { sectorPaths } from "./sealer-job.ts";
import { checkExistingReplica } from "./sealer-persist.ts";

const tmp = mkdtempSync(join(tmpdir(), "damocles-persist-check-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const job = { sector: { miner: 1000, number: 7, proof_type: 5 } } as Parameters<typeof sectorPaths>[1];
const local = sectorPaths(join(tmp, "sealing"), job);
const store = { name: "persist-1", location: join(tmp, "persist-1"), readonly: false };
const destCache = join(store.location, "cache", local.name);

function write(path: string, text: string) {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, text);
}

describe("persisting over an existing replica", () => {
  write(join(local.cache, "p_aux"), "comm_c+comm_r_last of this sealing");

  test("no replica at the destination: nothing to check", () => {
    expect(() => checkExistingReplica(local, store)).not.toThrow();
  });

  test("the same replica (equal p_aux) may be copied again", () => {
    write(join(store.location, "sealed", local.name), "sealed");
    write(join(destCache, "p_aux"), "comm_c+comm_r_last of this sealing");
    expect(() => checkExistingReplica(local, store)).not.toThrow();
  });

  test("our own copy cut short after the sealed file (no p_aux yet) may be completed", () => {
    write(local.sealed, "sealed");
    rmSync(join(destCache, "p_aux"));
    expect(() => checkExistingReplica(local, store)).not.toThrow();
  });

  test("a different replica is refused permanently, naming both files", () => {
    write(join(destCache, "p_aux"), "another sealing of the same sector number");
    let err: unknown;
    try {
      checkExistingReplica(local, store);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(Failure);
    expect((err as Failure).level).toBe("permanent");
    expect((err as Error).message).toContain(`${join(store.location, "sealed", local.name)} already holds a replica`);
    expect((err as Error).message).toContain(`differs from ${join(local.cache, "p_aux")}`);
    rmSync(join(destCache, "p_aux"));
    write(join(store.location, "sealed", local.name), "SEALED");
    expect(() => checkExistingReplica(local, store)).toThrow(`its sealed data differs from ${local.sealed}`);
  });
});
