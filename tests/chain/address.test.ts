import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import {
  ADDRESS_PROTOCOLS,
  AddressStringSchema,
  addressFromBytes,
  addressFromPublicKey,
  addressId,
  idAddress,
  parseAddress,
  withNetwork,
} from "../../src/core/chain/address.ts";
import { ChainCodecError } from "../../src/core/chain/errors.ts";
import { fromHex, toHex, vectors } from "../fixtures/vectors/chain.ts";

describe("addresses against go-address", () => {
  test("every protocol is covered, on both networks", () => {
    const seen = new Set(vectors.addresses.valid.map((a) => `${a.protocol}/${a.network}`));
    for (const p of Object.values(ADDRESS_PROTOCOLS)) {
      expect(seen.has(`${p}/mainnet`)).toBe(true);
      expect(seen.has(`${p}/testnet`)).toBe(true);
    }
  });

  for (const a of vectors.addresses.valid) {
    test(`${a.string}${a.note ? ` (${a.note})` : ""}`, () => {
      const parsed = parseAddress(a.string);
      expect(parsed.protocol).toBe(a.protocol as 0);
      expect(parsed.network).toBe(a.network);
      expect(toHex(parsed.bytes)).toBe(a.bytes);
      expect(parsed.string).toBe(a.string);
      const fromBytes = addressFromBytes(fromHex(a.bytes), a.network);
      expect(fromBytes.string).toBe(a.string);
    });
  }

  for (const bad of vectors.addresses.invalidStrings) {
    test(`refuses the string ${JSON.stringify(bad.input)} (go-address: ${bad.goError})`, () => {
      expect(() => parseAddress(bad.input)).toThrow(ChainCodecError);
    });
  }

  for (const bad of vectors.addresses.invalidBytes) {
    test(`refuses the bytes 0x${bad.input} (go-address: ${bad.goError})`, () => {
      expect(() => addressFromBytes(fromHex(bad.input), "mainnet")).toThrow(ChainCodecError);
    });
  }
});

describe("what iso-filecoin alone would let through", () => {
  for (const input of ["f0 1", "f0+1", "f00x10", `f1${"A".repeat(39)}`, "f432faaaaaaaaaaaaaaaa", "f410fbtt5w6q"]) {
    test(JSON.stringify(input), () => {
      expect(() => parseAddress(input)).toThrow(ChainCodecError);
    });
  }
});

describe("helpers", () => {
  test("ID addresses from numbers and back", () => {
    expect(idAddress(1000).string).toBe("f01000");
    expect(idAddress(1000n, "testnet").string).toBe("t01000");
    expect(addressId(parseAddress("f09223372036854775807"))).toBe((1n << 63n) - 1n);
    expect(() => idAddress(-1)).toThrow(ChainCodecError);
    expect(() => idAddress(1n << 63n)).toThrow(ChainCodecError);
    expect(() => addressId(parseAddress(vectors.secp256k1.address))).toThrow(/not an ID/);
  });

  test("leading zeros in an ID parse as go-address parses them, to the canonical string", () => {
    expect(parseAddress("f0001000").string).toBe("f01000");
  });

  test("the network is a rendering of the same bytes", () => {
    const main = parseAddress(vectors.secp256k1.address);
    const test = withNetwork(main, "testnet");
    expect(test.string).toBe(`t${main.string.slice(1)}`);
    expect(toHex(test.bytes)).toBe(toHex(main.bytes));
  });

  test("addresses of the vectors' public keys", () => {
    expect(addressFromPublicKey(fromHex(vectors.secp256k1.publicKey), "secp256k1", "mainnet").string).toBe(
      vectors.secp256k1.address,
    );
    expect(addressFromPublicKey(fromHex(vectors.bls.publicKey), "bls", "mainnet").string).toBe(vectors.bls.address);
  });

  test("the valibot schema names the value and the rule", () => {
    expect(v.parse(AddressStringSchema, "t01000").string).toBe("t01000");
    const result = v.safeParse(AddressStringSchema, "f0abc");
    expect(result.success).toBe(false);
    expect(result.issues?.[0]?.message).toContain('"f0abc" is not a Filecoin address');
    expect(v.safeParse(AddressStringSchema, 1000).success).toBe(false);
  });
});
