import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { validateInput } from "../core/plugin/api.ts";
import {
  fromWirePoStTask,
  postProofFromSerdeName,
  proofsFromWire,
  proofsToWire,
  toWirePoStTask,
  WindowPoStOutputSchema,
} from "../core/processor/stages/post.ts";
import { POST_PROOFS, postProofRustName } from "../core/sector/proof.ts";
import windowPost from "./window-post.ts";
import winningPost from "./winning-post.ts";

const bytes32 = (n: number) => Array.from({ length: 32 }, (_, i) => (i + n) % 256);
const task = (over: Record<string, unknown> = {}) => ({
  miner_id: 1000,
  proof_type: "StackedDrgWindow2KiBV1_2",
  replicas: [{ sector_id: 1, comm_r: bytes32(1), cache_dir: "/c/1", sealed_file: "/s/1" }],
  seed: bytes32(9),
  ...over,
});

describe("PoSt wire forms", () => {
  test("proof types are rust-fil-proofs variant names: Go's WindowV1_1 (10..14) is rust's V1_2", () => {
    expect(postProofRustName(0)).toBe("StackedDrgWinning2KiBV1");
    expect(postProofRustName(5)).toBe("StackedDrgWindow2KiBV1");
    expect(postProofRustName(10)).toBe("StackedDrgWindow2KiBV1_2");
    expect(postProofRustName(13)).toBe("StackedDrgWindow32GiBV1_2");
    for (const p of POST_PROOFS) expect(postProofFromSerdeName(postProofRustName(p.id))).toBe(p.id);
    expect(() => postProofFromSerdeName("StackedDrgWindow2KiBV1_1")).toThrow("unknown RegisteredPoStProof");
    expect(() => postProofRustName(15)).toThrow("unknown PoSt proof type 15");
  });

  test("a task round-trips between the prover's terms and the wire", () => {
    const parts = {
      minerId: 1000,
      proofType: 10,
      seed: Uint8Array.from(bytes32(9)),
      replicas: [{ sectorId: 1, commR: Uint8Array.from(bytes32(1)), cacheDir: "/c/1", sealedPath: "/s/1" }],
    };
    const wire = toWirePoStTask(parts);
    expect(wire).toEqual(task());
    expect(JSON.parse(JSON.stringify(wire))).toEqual(wire);
    expect(fromWirePoStTask(wire)).toEqual({
      postProof: 10,
      proverId: 1000,
      randomness: parts.seed,
      replicas: parts.replicas,
    });
  });

  test("proofs travel as standard base64 and take the task's proof type", () => {
    const raw = Uint8Array.from({ length: 192 }, (_, i) => (i * 7) % 256);
    const wire = proofsToWire([{ postProof: 10, proof: raw }]);
    expect(wire).toEqual([Buffer.from(raw).toString("base64")]);
    expect(proofsFromWire(wire, 10)).toEqual([{ postProof: 10, proof: raw }]);
  });

  test("outputs: base64 checked, a Go nil slice (null) reads as empty", () => {
    expect(v.parse(WindowPoStOutputSchema, { proofs: null, faults: [3] })).toEqual({ proofs: [], faults: [3] });
    expect(v.safeParse(WindowPoStOutputSchema, { proofs: [[1, 2, 3]], faults: [] }).success).toBe(false);
    expect(v.safeParse(WindowPoStOutputSchema, { proofs: ["not base64!"], faults: [] }).success).toBe(false);
  });

  test("inputs name the bad field: wrong kind of proof type, short comm_r, no replicas", async () => {
    const wrongKind = await validateInput(windowPost, task({ proof_type: "StackedDrgWinning2KiBV1" }));
    expect(wrongKind).toMatchObject({ ok: false });
    expect(!wrongKind.ok && wrongKind.error).toContain(
      "proof_type: expected a window RegisteredPoStProof variant name like StackedDrgWindow2KiBV1_2",
    );
    const goName = await validateInput(windowPost, task({ proof_type: "StackedDrgWindow2KiBV1_1" }));
    expect(goName.ok).toBe(false);
    const short = await validateInput(
      windowPost,
      task({ replicas: [{ sector_id: 1, comm_r: [1, 2], cache_dir: "/c", sealed_file: "/s" }] }),
    );
    expect(!short.ok && short.error).toContain("replicas.0.comm_r: expected exactly 32 bytes");
    const none = await validateInput(winningPost, task({ proof_type: "StackedDrgWinning2KiBV1", replicas: [] }));
    expect(!none.ok && none.error).toContain("replicas: expected at least one replica");
    expect((await validateInput(winningPost, task({ proof_type: "StackedDrgWinning2KiBV1" }))).ok).toBe(true);
  });
});
