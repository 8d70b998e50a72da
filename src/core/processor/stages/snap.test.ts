import { expect, test } from "bun:test";
import * as v from "valibot";
import { SnapEncodeInputSchema, SnapEncodeOutputSchema, SnapProveInputSchema, SnapProveOutputSchema } from "./snap.ts";

const c = (seed: number) => Array.from({ length: 32 }, (_, i) => (seed + i) % 256);

// Tasks as vc-processors' builtin::tasks::{SnapEncode, SnapProve} serialize them (serde defaults:
// RegisteredUpdateProof by variant name, PathBuf as a string, [u8; 32] and Vec<u8> as number arrays).
const encode = JSON.parse(`{
  "registered_proof": "StackedDrg32GiBV1",
  "new_replica_path": "/data/worker/store1/data/update/s-t01000-42",
  "new_cache_path": "/data/worker/store1/data/update-cache/s-t01000-42",
  "sector_path": "/data/worker/store1/data/sealed/s-t01000-42",
  "sector_cache_path": "/data/worker/store1/data/cache/s-t01000-42",
  "staged_data_path": "/data/worker/store1/data/unsealed/s-t01000-42",
  "piece_infos": [{"commitment": ${JSON.stringify(c(7))}, "size": 34091302912}]
}`);

test("the original's snap_encode task and result are accepted as they are", () => {
  expect(v.parse(SnapEncodeInputSchema, encode)).toEqual(encode);
  const out = { comm_r_new: c(1), comm_r_last_new: c(2), comm_d_new: c(3) };
  expect(v.parse(SnapEncodeOutputSchema, out)).toEqual(out);
});

test("the original's snap_prove task (with its 'vannilla' spelling) and result are accepted", () => {
  const prove = {
    registered_proof: "StackedDrg2KiBV1",
    vannilla_proofs: [
      [1, 2, 3],
      [4, 5, 6],
    ],
    comm_r_old: c(9),
    comm_r_new: c(10),
    comm_d_new: c(11),
  };
  expect(v.parse(SnapProveInputSchema, prove)).toEqual(prove);
  expect(v.parse(SnapProveOutputSchema, [9, 8, 7])).toEqual([9, 8, 7]);
});

test("tasks the proofs library could not run are refused naming the field", () => {
  const sealName = v.safeParse(SnapEncodeInputSchema, { ...encode, registered_proof: "StackedDrg32GiBV1_1" });
  expect(sealName.issues?.[0]?.message).toBe("expected a RegisteredUpdateProof name like StackedDrg2KiBV1");
  const noPieces = v.safeParse(SnapEncodeInputSchema, { ...encode, piece_infos: [] });
  expect(noPieces.issues?.map((i) => `${v.getDotPath(i)}: ${i.message}`)).toEqual([
    "piece_infos: piece_infos must list the sector's pieces",
  ]);
  const shortComm = v.safeParse(SnapProveInputSchema, {
    registered_proof: "StackedDrg2KiBV1",
    vannilla_proofs: [[1]],
    comm_r_old: [1, 2],
    comm_r_new: c(1),
    comm_d_new: c(2),
  });
  expect(shortComm.issues?.map((i) => `${v.getDotPath(i)}: ${i.message}`)).toEqual([
    "comm_r_old: expected exactly 32 bytes",
  ]);
  expect(v.safeParse(SnapProveOutputSchema, []).success).toBe(false);
});
