import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { computeCommD, verifySeal } from "../../src/core/proofs/index.ts";
import { zeroCommD } from "../../src/core/sector/commd.ts";
import { sealed2KiB } from "../fixtures/sealed-2kib.ts";

// Real proofs: the shared fixture seals with two C2 SNARKs on first use (minutes on a 2-core machine).
setDefaultTimeout(20 * 60_000);

describe("2KiB sealing with real proofs", () => {
  test("a CC sector seals and its proof verifies", async () => {
    const f = await sealed2KiB();
    expect(f.cc.verified).toBe(true);
    expect(f.cc.proof!.length).toBe(192);
    // A CC sector's CommD is the all-zero tree's root; the manager relies on that.
    expect(Buffer.from(f.cc.commD).equals(Buffer.from(zeroCommD(2048)))).toBe(true);
    const again = await verifySeal({ ...f.cc, proof: f.cc.proof! });
    expect(again).toBe(true);
  });

  test("a sector holding a data piece seals and verifies; CommD matches its pieces", async () => {
    const f = await sealed2KiB();
    expect(f.data.verified).toBe(true);
    expect(f.data.pieces.map((p) => p.size)).toEqual([1016, 1016]);
    const commD = await computeCommD({ registeredProof: f.registeredProof, pieces: f.data.pieces });
    expect(Buffer.from(commD).equals(Buffer.from(f.data.commD))).toBe(true);
    expect(Buffer.from(f.data.commD).equals(Buffer.from(f.cc.commD))).toBe(false);
  });

  test("tampered proofs are rejected", async () => {
    const f = await sealed2KiB();
    const base = { ...f.data, proof: f.data.proof! };
    // Valid points, wrong statement: another sector's proof, or another seed.
    expect(await verifySeal({ ...base, proof: f.cc.proof! })).toBe(false);
    expect(await verifySeal({ ...base, seed: f.ticket })).toBe(false);
    expect(await verifySeal({ ...base, sectorId: 99 })).toBe(false);
    // Flipped bits: either decodes to a wrong proof (false) or fails to decode (rejected) — never true.
    for (const i of [0, 50, 100, 191]) {
      const bad = new Uint8Array(base.proof);
      bad[i]! ^= 0x01;
      const verdict = await verifySeal({ ...base, proof: bad }).catch(() => "rejected");
      expect(verdict === false || verdict === "rejected").toBe(true);
    }
  });
});
