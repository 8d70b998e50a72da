import { describe, expect, test } from "bun:test";
import { encode } from "@ipld/dag-cbor";
import { Message as IsoMessage } from "iso-filecoin/message";
import { ChainCodecError } from "../../src/core/chain/errors.ts";
import { decodeMessage, encodeMessage, MAX_MESSAGE_BYTES, messageCid } from "../../src/core/chain/message.ts";
import { fromHex, messageOf, toHex, vectors } from "../fixtures/vectors/chain.ts";

describe("unsigned messages against Lotus's encoding (Go vectors)", () => {
  for (const v of vectors.messages) {
    test(v.name, () => {
      const message = messageOf(v);
      expect(toHex(encodeMessage(message))).toBe(v.bytes);
      expect(messageCid(message).toString()).toBe(v.cid);
      expect(decodeMessage(fromHex(v.bytes), v.network)).toEqual(message);
    });

    test(`${v.name}: iso-filecoin's Message writes the same bytes and CID`, () => {
      const m = v.message;
      expect(m.version).toBe(0);
      const iso = new IsoMessage({
        ...m,
        version: 0,
        params: Buffer.from(fromHex(m.params)).toString("base64"),
      });
      expect(toHex(iso.serialize())).toBe(v.bytes);
      expect(toHex(iso.cidBytes())).toBe(toHex(messageCid(messageOf(v)).bytes));
    });
  }
});

describe("refusals", () => {
  const base = () => messageOf(vectors.messages[0]!);

  test("version other than 0, both ways", () => {
    expect(() => encodeMessage({ ...base(), version: 1 })).toThrow(/version is 1/);
    const bytes = fromHex(vectors.messages[0]!.bytes);
    const v1 = Uint8Array.from(bytes);
    v1[1] = 0x01; // the version field follows the 0x8a array header
    expect(() => decodeMessage(v1)).toThrow(/only message version 0 exists/);
  });

  test("a bad address or a negative nonce names the field", () => {
    expect(() => encodeMessage({ ...base(), to: "f0abc" })).toThrow(/message: to: "f0abc" is not a Filecoin address/);
    expect(() => encodeMessage({ ...base(), nonce: -1 })).toThrow(/nonce/);
  });

  test("oversized messages are refused before decoding", () => {
    expect(() => decodeMessage(new Uint8Array(MAX_MESSAGE_BYTES + 1))).toThrow(ChainCodecError);
    expect(() => encodeMessage({ ...base(), params: new Uint8Array(MAX_MESSAGE_BYTES) })).toThrow(ChainCodecError);
  });

  test("a token amount with a bad sign byte", () => {
    const tuple = [
      0,
      new Uint8Array([0, 1]),
      new Uint8Array([0, 1]),
      0,
      Uint8Array.from([7, 1]),
      0,
      new Uint8Array(0),
      new Uint8Array(0),
      0,
      new Uint8Array(0),
    ];
    expect(() => decodeMessage(encode(tuple))).toThrow(/value: token amount sign byte is 7/);
  });

  test("hostile CBOR: lengths past the data, 2^64 array lengths, deep nesting", () => {
    const hostile = [
      Uint8Array.from([0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
      Uint8Array.from([0x5a, 0xff, 0xff, 0xff, 0xff]),
      new Uint8Array(60000).fill(0x81),
    ];
    for (const bytes of hostile) expect(() => decodeMessage(bytes)).toThrow(ChainCodecError);
  });
});
