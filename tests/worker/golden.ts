import { readFileSync } from "node:fs";
import { join } from "node:path";

/** The golden stage tasks of tests/fixtures/wire with their `{{placeholders}}` filled in. */
export const WIRE = join(import.meta.dir, "..", "fixtures", "wire");

export function golden(name: string, vars: Record<string, string> = {}): unknown {
  const text = readFileSync(join(WIRE, name), "utf8").replace(/\{\{(\w+)\}\}/g, (m, key: string) => {
    const value = vars[key];
    if (value === undefined) throw new Error(`${name}: no value for ${m}`);
    return value;
  });
  return JSON.parse(text);
}

/** Byte i of the fixtures' deal pieces. */
export function pieceBytes(length: number, seed: number): Buffer {
  return Buffer.from(Array.from({ length }, (_, i) => (i * seed + 3) % 251));
}

/** The two deal pieces of acquire-deals.answer.json: their bytes and piece CIDs. */
export const DEAL_PIECES = [
  { id: 11, bytes: pieceBytes(500, 7), cid: "baga6ea4seaqjkq537gtbq6aa5qy7dih6x3kyvyxoyv6zsskdw5xcrao75khnwfy" },
  { id: 12, bytes: pieceBytes(200, 13), cid: "baga6ea4seaqhz52l4xqy5cafyatn637mgyavpbicafxywcjcir77s4hp2cexmdi" },
] as const;
