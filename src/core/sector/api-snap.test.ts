import { expect, test } from "bun:test";
import * as v from "valibot";
import { validateParams } from "../rpc/method.ts";
import {
  AllocatedSnapUpSectorSchema,
  BitFieldJsonSchema,
  bitfieldFromNumbers,
  bitfieldNumbers,
  VenusSnap,
  VenusSnapCli,
} from "./api-snap.ts";

const comm = Array.from({ length: 32 }, (_, i) => i);

test("AllocatedSnapUpSector as the Go manager writes it", () => {
  const wire = {
    Sector: { ID: { Miner: 1000, Number: 3 }, ProofType: 5 },
    Pieces: [
      {
        ID: 7,
        PayloadSize: 900,
        Piece: { Size: 1024, Offset: 0, Cid: { "/": "baga6ea4seaq" } },
        Proposal: null,
        IsCompatible: false,
      },
    ],
    Public: { CommR: comm, SealedCID: { "/": "bagboea4b5abc" }, Activation: 120, Expiration: 5000 },
    Private: { AccessInstance: "persist-1" },
  };
  expect(v.parse(AllocatedSnapUpSectorSchema, wire)).toEqual(wire);
});

test("the wire names keep the original's spelling and params validate by name", () => {
  expect(VenusSnap.AllocateSanpUpSector.name).toBe("Venus.AllocateSanpUpSector");
  const bad = validateParams(VenusSnap.SubmitSnapUpProof, [
    { Miner: 1000, Number: 3 },
    { CommR: comm, CommD: comm, AccessInstance: "", Pieces: null, Proof: "AAEC" },
  ]);
  expect(bad).toEqual({
    ok: false,
    message: expect.stringContaining('"snapupInfo.AccessInstance"'),
  });
  const farDeadline = validateParams(VenusSnapCli.SnapUpPreFetch, [1000, 48]);
  expect(farDeadline.ok).toBe(false);
  expect(validateParams(VenusSnapCli.SnapUpPreFetch, [1000]).ok).toBe(true);
  expect(validateParams(VenusSnapCli.SnapUpPreFetch, [1000, null]).ok).toBe(true);
});

test("bitfields travel as go-bitfield's run lengths", () => {
  // go-bitfield's own example: {0, 1, 2, 8, 9} is [0, 3, 5, 2].
  expect(bitfieldFromNumbers([9, 0, 8, 1, 2, 2])).toEqual([0, 3, 5, 2]);
  expect(bitfieldNumbers([0, 3, 5, 2])).toEqual([0, 1, 2, 8, 9]);
  expect(bitfieldFromNumbers([])).toEqual([0]);
  expect(bitfieldNumbers([0])).toEqual([]);
  expect(bitfieldFromNumbers([4, 6])).toEqual([4, 1, 1, 1]);
  expect(bitfieldNumbers(bitfieldFromNumbers([4, 6]))).toEqual([4, 6]);
  expect(v.safeParse(BitFieldJsonSchema, [0, 3, 0, 2]).issues?.[0]?.message).toBe(
    "only the first run of a bitfield may be 0",
  );
});
