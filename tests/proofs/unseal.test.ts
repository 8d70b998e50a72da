import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { unsealRange } from "../../src/core/proofs/index.ts";
import { sealed2KiB } from "../fixtures/sealed-2kib.ts";

// Real proofs: the shared fixture seals with two C2 SNARKs on first use (minutes on a 2-core machine).
setDefaultTimeout(20 * 60_000);

describe("unseal (2KiB, real proofs)", () => {
  test("returns the original bytes of a data piece, and zeros for the pledge piece", async () => {
    const f = await sealed2KiB();
    const out = join(mkdtempSync(join(f.dir, "unseal-")), "unsealed"); // removed with the fixture
    const s = f.data;
    const n = await unsealRange({
      ...s,
      cachePath: s.cacheDir,
      sealedPath: s.sealedPath,
      outputPath: out,
      offset: 0,
      numBytes: 2032,
    });
    expect(n).toBe(2032);
    const bytes = new Uint8Array(readFileSync(out));
    expect(bytes.length).toBe(2032);
    expect(Buffer.from(bytes.subarray(0, 1016)).equals(Buffer.from(s.payload))).toBe(true);
    expect(bytes.subarray(1016).every((b) => b === 0)).toBe(true);

    // A range: the second half of the payload.
    const n2 = await unsealRange({
      ...s,
      cachePath: s.cacheDir,
      sealedPath: s.sealedPath,
      outputPath: out,
      offset: 508,
      numBytes: 508,
    });
    expect(n2).toBe(508);
    expect(Buffer.from(readFileSync(out)).equals(Buffer.from(s.payload.subarray(508, 1016)))).toBe(true);
  });
});
