import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Failure } from "../../core/errors/index.ts";
import { commRFromPAux } from "../../core/proofs/index.ts";
import { sectorPaths } from "./sealer-job.ts";
import { checkExistingReplica, SEALED_DIRS } from "./sealer-persist.ts";

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

describe("a rebuild persisting over the lost or corrupt replica", () => {
  const rjob = { sector: { miner: 1000, number: 8, proof_type: 5 } } as Parameters<typeof sectorPaths>[1];
  const mine = sectorPaths(join(tmp, "rebuild"), rjob);
  const dest = {
    sealed: join(store.location, "sealed", mine.name),
    aux: join(store.location, "cache", mine.name, "p_aux"),
  };
  // Two p_aux files: 64 bytes each, two field elements (small little-endian values are canonical).
  const pAux = (seed: number) => Uint8Array.from({ length: 64 }, (_, i) => (i % 32 < 8 ? seed + i : 0));
  const ours = pAux(1);
  const theirs = pAux(100);
  const commR = commRFromPAux(ours);
  const otherCommR = commRFromPAux(theirs);
  write(mine.sealed, "the rebuilt sealed file, of sector size");

  test("the lost replica (no sealed file, cache or not) is replaced", () => {
    expect(() => checkExistingReplica(mine, store, SEALED_DIRS, commR)).not.toThrow();
    write(dest.aux, "");
    writeFileSync(dest.aux, ours);
    expect(() => checkExistingReplica(mine, store, SEALED_DIRS, commR)).not.toThrow();
  });

  test("a corrupt sealed file whose p_aux derives the sector's CommR is replaced", () => {
    write(dest.sealed, "bit rot");
    writeFileSync(dest.aux, ours);
    expect(() => checkExistingReplica(mine, store, SEALED_DIRS, commR)).not.toThrow();
  });

  test("a replica whose p_aux derives another CommR is refused, naming both CommRs", () => {
    writeFileSync(dest.aux, theirs);
    let err: unknown;
    try {
      checkExistingReplica(mine, store, SEALED_DIRS, commR);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(Failure);
    expect((err as Failure).level).toBe("permanent");
    expect((err as Error).message).toContain(Buffer.from(otherCommR).toString("hex"));
    expect((err as Error).message).toContain(Buffer.from(commR).toString("hex"));
    // Also when the destination's sealed file is gone: its cache still belongs to another sealing.
    rmSync(dest.sealed);
    expect(() => checkExistingReplica(mine, store, SEALED_DIRS, commR)).toThrow("belongs to another replica");
  });

  test("without a readable p_aux, only a sealed file with the rebuilt one's ends is replaced", () => {
    writeFileSync(dest.aux, "damaged");
    write(dest.sealed, "the rebuilt sealed file, of sector size");
    expect(() => checkExistingReplica(mine, store, SEALED_DIRS, commR)).not.toThrow();
    write(dest.sealed, "something nobody can identify");
    expect(() => checkExistingReplica(mine, store, SEALED_DIRS, commR)).toThrow("no readable p_aux identifies");
    rmSync(dest.aux);
    expect(() => checkExistingReplica(mine, store, SEALED_DIRS, commR)).toThrow("no readable p_aux identifies");
  });
});
