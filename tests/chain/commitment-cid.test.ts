import { describe, expect, test } from "bun:test";
import { cidToCommitment, commDToCid, commRToCid } from "../../src/core/sector/cid.ts";
import { fromHex, toHex, vectors } from "../fixtures/vectors/chain.ts";

// The params codecs take CommR/CommD CIDs through core/sector's cid.ts; here its output meets go-fil-commcid's.
describe("commitment CIDs against go-fil-commcid", () => {
  for (const c of vectors.commCids) {
    test(`${c.kind} ${c.cid}`, () => {
      const commitment = fromHex(c.commitment);
      expect(c.kind === "sealed" ? commRToCid(commitment) : commDToCid(commitment)).toBe(c.cid);
      expect(toHex(cidToCommitment(c.cid, c.kind))).toBe(c.commitment);
    });
  }
});
