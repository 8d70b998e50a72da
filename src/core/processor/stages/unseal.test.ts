import { expect, test } from "bun:test";
import * as v from "valibot";
import { UnsealInputSchema, UnsealOutputSchema } from "./unseal.ts";

// An unseal task as vc-processors' builtin::tasks::Unseal serializes it (serde defaults: newtypes as
// their number, [u8; 32] as 32 numbers, PathBuf as a string, RegisteredSealProof by variant name).
const golden = JSON.parse(`{
  "registered_proof": "StackedDrg32GiBV1_1",
  "prover_id": [232,7,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0],
  "sector_id": 42,
  "comm_d": [7,126,95,222,53,197,10,147,3,165,80,9,227,73,138,78,190,223,243,156,66,183,16,183,48,216,236,122,199,175,166,62],
  "ticket": [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32],
  "cache_dir": "/mnt/persist-1/cache/s-t01000-42",
  "sealed_file": "/mnt/persist-1/sealed/s-t01000-42",
  "unsealed_output": "/data/worker/store1/data/unsealed/baga6ea4seaqao7s73y24kcutaosvacpdjgfe5pw76ooefnyqw4ynr3d2y6x2mpq",
  "offset": 0,
  "num_bytes": 34091302912
}`);

test("the original's unseal task is accepted as it is, and its result is a byte count", () => {
  expect(v.parse(UnsealInputSchema, golden)).toEqual(golden);
  expect(v.parse(UnsealOutputSchema, 34091302912)).toBe(34091302912);
});

test("a task the proofs library could not run is refused naming the field", () => {
  const bad = v.safeParse(UnsealInputSchema, { ...golden, comm_d: [1, 2, 3], registered_proof: "StackedDrg2KiBV1_1" });
  expect(bad.success).toBe(false);
  expect(bad.issues?.map((i) => `${v.getDotPath(i)}: ${i.message}`)).toEqual(["comm_d: expected exactly 32 bytes"]);
  const named = v.safeParse(UnsealInputSchema, { ...golden, registered_proof: "StackedDrg2KiB" });
  expect(named.issues?.[0]?.message).toBe("expected a RegisteredSealProof name like StackedDrg2KiBV1_1");
});
