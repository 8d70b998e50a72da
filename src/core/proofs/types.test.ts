import { describe, expect, test } from "bun:test";
import {
  POST_PROOFS,
  postProofFromRustName,
  postProofRustName,
  SEAL_PROOFS,
  sealProofFromName,
  UPDATE_PROOFS,
  updateProofFor,
  windowPoStPartitionSectors,
  windowPoStProofFor,
  winningPoStProofFor,
} from "../sector/proof.ts";
import { damoclesParamsDir } from "./config.ts";
import { pledgeFill } from "./lifecycle.ts";
import { defaultCircuits, paramsFixCommand, parseCircuits } from "./params.ts";
import {
  fromWirePieceInfo,
  fromWirePreCommitOutput,
  paddedSize,
  postRandomness,
  toWirePieceInfo,
  toWirePreCommitOutput,
  unpaddedSize,
} from "./types.ts";

describe("proofs value helpers (no addon needed)", () => {
  test("padding arithmetic and pledge fill", () => {
    expect(unpaddedSize(2048)).toBe(2032);
    expect(paddedSize(1016)).toBe(1024);
    expect(unpaddedSize(32 * 2 ** 30)).toBe(34091302912);
    expect(pledgeFill(1024)).toEqual([1016]);
    expect(pledgeFill(1536)).toEqual([508, 1016]);
    expect(pledgeFill(2048)).toEqual([2032]);
    expect(pledgeFill(32 * 2 ** 30).length).toBe(1);
  });

  test("proof type tables", () => {
    expect(sealProofFromName("StackedDrg2KiBV1_1")).toBe(5);
    expect(sealProofFromName("StackedDrg64GiBV1_2_Feat_NonInteractivePoRep")).toBe(19);
    expect(UPDATE_PROOFS.map((u) => u.name)).toEqual([
      "StackedDrg2KiBV1",
      "StackedDrg8MiBV1",
      "StackedDrg512MiBV1",
      "StackedDrg32GiBV1",
      "StackedDrg64GiBV1",
    ]);
    expect(updateProofFor(5)).toBe(0);
    expect(updateProofFor(8)).toBe(3);
    expect(updateProofFor(8 << 20)).toBe(1);
  });

  test("one table: wire integers are family × 5 + size index; rust names differ only for Go's Window…V1_1", () => {
    for (const table of [SEAL_PROOFS, POST_PROOFS, UPDATE_PROOFS])
      expect(table.map((p) => p.id)).toEqual([...table.keys()]);
    expect(SEAL_PROOFS[8]).toMatchObject({ name: "StackedDrg32GiBV1_1", sectorSize: 32 * 2 ** 30, variant: "V1_1" });
    expect(POST_PROOFS.filter((p) => p.name !== p.rustName).map((p) => [p.id, p.name, p.rustName])).toEqual(
      ["2KiB", "8MiB", "512MiB", "32GiB", "64GiB"].map((s, i) => [
        10 + i,
        `StackedDrgWindow${s}V1_1`,
        `StackedDrgWindow${s}V1_2`,
      ]),
    );
    expect(postProofRustName(5)).toBe("StackedDrgWindow2KiBV1");
    expect(postProofFromRustName("StackedDrgWindow64GiBV1_2")).toBe(14);
    expect(postProofFromRustName("StackedDrgWindow64GiBV1_1")).toBeUndefined();
    expect([windowPoStProofFor(5), winningPoStProofFor(5)]).toEqual([10, 0]);
    expect([2, 8, 9].map(windowPoStPartitionSectors)).toEqual([2, 2349, 2300]);
  });

  test("wire (processor protocol) forms round-trip", () => {
    const commitment = Uint8Array.from({ length: 32 }, (_, i) => i);
    const wire = toWirePieceInfo({ commitment, size: 2032 });
    expect(wire).toEqual({ commitment: Array.from(commitment), size: 2032 });
    expect(fromWirePieceInfo(wire)).toEqual({ commitment, size: 2032 });
    const pc2 = { registeredProof: 5, commR: commitment, commD: commitment };
    expect(toWirePreCommitOutput(pc2).registered_proof).toBe("StackedDrg2KiBV1_1");
    expect(fromWirePreCommitOutput(toWirePreCommitOutput(pc2))).toEqual(pc2);
    expect(() => fromWirePieceInfo({ commitment: [1, 2], size: 1 })).toThrow("32 bytes");
  });

  test("PoSt randomness is made a canonical scalar", () => {
    const r = postRandomness(new Uint8Array(32).fill(0xff));
    expect(r[31]).toBe(0x3f);
    expect(r[0]).toBe(0xff);
  });

  test("circuit lists and the fix command", () => {
    expect(defaultCircuits(512 << 20)).toEqual(["porep", "winning-post", "window-post"]);
    expect(defaultCircuits(2048)).toHaveLength(4);
    expect(parseCircuits("porep, window-post")).toEqual(["porep", "window-post"]);
    expect(() => parseCircuits("snap")).toThrow("unknown circuit");
    expect(paramsFixCommand(2048, damoclesParamsDir())).toBe("damocles util params generate --sector-size 2KiB");
    expect(paramsFixCommand(8 << 20, "/data/p")).toBe("damocles util params generate --sector-size 8MiB --dir /data/p");
    expect(paramsFixCommand(512 << 20, "/data/p", ["empty-sector-update"])).toBe(
      "damocles util params generate --sector-size 512MiB --dir /data/p --circuits empty-sector-update",
    );
  });
});
