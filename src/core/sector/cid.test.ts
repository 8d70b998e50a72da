import { describe, expect, test } from "bun:test";
import { CommitmentCidError, cidToCommitment, commDToCid, commRToCid, pieceCid, pieceCommitment } from "./cid.ts";

// The CommD of an empty 2KiB sector and its CID, as go-fil-commcid and Lotus print them.
const ZERO_2KIB_COMMD = Buffer.from("fc7e928296e516faade986b28f92d44a4f24b935485223376a799027bc18f833", "hex");
const ZERO_2KIB_CID = "baga6ea4seaqpy7usqklokfx2vxuynmupslkeutzexe2uqurdg5vhtebhxqmpqmy";

describe("commitment CIDs", () => {
  test("CommD/CommP ↔ the unsealed commitment CID, both ways", () => {
    expect(commDToCid(ZERO_2KIB_COMMD)).toBe(ZERO_2KIB_CID);
    expect(pieceCid(ZERO_2KIB_COMMD)).toBe(ZERO_2KIB_CID);
    expect(Buffer.from(pieceCommitment(ZERO_2KIB_CID))).toEqual(ZERO_2KIB_COMMD);
  });

  test("CommR round-trips through the sealed CID kind", () => {
    const commR = new Uint8Array(32).fill(9);
    const cid = commRToCid(commR);
    expect(cid.startsWith("bagboea4b5a")).toBe(true);
    expect(cidToCommitment(cid, "sealed")).toEqual(commR);
    expect(cidToCommitment(cid)).toEqual(commR);
  });

  test("a CID of the wrong kind, a non-CID and a wrong-length commitment are refused by name", () => {
    const sealed = commRToCid(new Uint8Array(32));
    expect(() => pieceCommitment(sealed)).toThrow(CommitmentCidError);
    expect(() => pieceCommitment(sealed)).toThrow("is not a piece/unsealed (CommP/CommD) commitment CID");
    expect(() => pieceCommitment("not-a-cid")).toThrow('"not-a-cid" is not a CID');
    expect(() => commDToCid(new Uint8Array(31))).toThrow("CommD must be 32 bytes, got 31");
  });
});
