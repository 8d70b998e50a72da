import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { idAddress, parseAddress } from "../../src/core/chain/address.ts";
import { ChainCodecError } from "../../src/core/chain/errors.ts";
import {
  fromLotusKeyInfo,
  keyAddress,
  LotusKeyInfoSchema,
  type PrivateKey,
  publicKeyOf,
  signBytes,
  toLotusKeyInfo,
  verifyBytes,
} from "../../src/core/chain/keys.ts";
import { messageCid } from "../../src/core/chain/message.ts";
import { signatureFromBytes, signatureToBytes } from "../../src/core/chain/signature.ts";
import {
  decodeSignedMessage,
  encodeSignedMessage,
  type SignedMessage,
  signedMessageCid,
  signMessage,
  verifySignedMessage,
} from "../../src/core/chain/signed-message.ts";
import { fromHex, messageNamed, messageOf, toHex, vectors } from "../fixtures/vectors/chain.ts";

const secp: PrivateKey = { type: "secp256k1", bytes: fromHex(vectors.secp256k1.privateKey) };
const bls: PrivateKey = { type: "bls", bytes: fromHex(vectors.bls.privateKey) };

describe("keys", () => {
  test("public keys and addresses equal the Go ones", () => {
    expect(toHex(publicKeyOf(secp))).toBe(vectors.secp256k1.publicKey);
    expect(keyAddress(secp, "mainnet").string).toBe(vectors.secp256k1.address);
    expect(toHex(publicKeyOf(bls))).toBe(vectors.bls.publicKey);
    expect(keyAddress(bls, "mainnet").string).toBe(vectors.bls.address);
  });

  test("Lotus key infos: BLS scalars are little-endian there", () => {
    const info = v.parse(LotusKeyInfoSchema, { Type: "bls", PrivateKey: vectors.bls.lotusPrivateKey });
    expect(toHex(fromLotusKeyInfo(info).bytes)).toBe(vectors.bls.privateKey);
    expect(toLotusKeyInfo(bls).PrivateKey).toBe(vectors.bls.lotusPrivateKey);
    expect(toHex(fromLotusKeyInfo(toLotusKeyInfo(secp)).bytes)).toBe(vectors.secp256k1.privateKey);
    expect(v.safeParse(LotusKeyInfoSchema, { Type: "ed25519", PrivateKey: "AA==" }).success).toBe(false);
  });

  test("bad keys are refused without echoing them", () => {
    const zero: PrivateKey = { type: "secp256k1", bytes: new Uint8Array(32) };
    expect(() => publicKeyOf(zero)).toThrow(ChainCodecError);
    expect(() => publicKeyOf({ type: "bls", bytes: new Uint8Array(31) })).toThrow(/32 bytes/);
    const order = fromHex("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
    try {
      signBytes({ type: "secp256k1", bytes: order }, new Uint8Array(1));
      throw new Error("accepted");
    } catch (err) {
      expect(err).toBeInstanceOf(ChainCodecError);
      expect((err as Error).message).not.toContain("baaedce6");
    }
  });
});

describe("secp256k1-signed messages against the Go vectors", () => {
  for (const sv of vectors.secp256k1.signatures) {
    test(sv.message, () => {
      const vector = messageNamed(sv.message);
      const signed = signMessage(messageOf(vector), secp);
      expect(toHex(signed.signature.data)).toBe(sv.signature);
      expect(toHex(encodeSignedMessage(signed))).toBe(sv.signedBytes);
      expect(signedMessageCid(signed).toString()).toBe(sv.signedCid);
      expect(verifySignedMessage(signed)).toBe(true);
      expect(decodeSignedMessage(fromHex(sv.signedBytes), vector.network)).toEqual(signed);
    });
  }

  test("go-crypto's own signature (random nonce) verifies, and its signed CID matches", () => {
    const rn = vectors.secp256k1.randomNonce;
    const signed = decodeSignedMessage(fromHex(rn.signedBytes));
    expect(toHex(signed.signature.data)).toBe(rn.signature);
    expect(verifySignedMessage(signed)).toBe(true);
    expect(signedMessageCid(signed).toString()).toBe(rn.signedCid);
  });
});

describe("BLS-signed messages against the Go vectors (circl, the ciphersuite filecoin-ffi uses)", () => {
  for (const sv of vectors.bls.signatures) {
    test(sv.message, () => {
      const vector = messageNamed(sv.message);
      const signed = signMessage(messageOf(vector), bls);
      expect(toHex(signed.signature.data)).toBe(sv.signature);
      expect(toHex(encodeSignedMessage(signed))).toBe(sv.signedBytes);
      // BLS messages are known by the unsigned CID
      expect(signedMessageCid(signed).toString()).toBe(sv.signedCid);
      expect(sv.signedCid).toBe(vector.cid);
      expect(verifySignedMessage(signed)).toBe(true);
      expect(decodeSignedMessage(fromHex(sv.signedBytes))).toEqual(signed);
    });
  }
});

describe("verification refuses what Lotus refuses", () => {
  const vector = messageNamed(vectors.secp256k1.signatures[0]!.message);
  const signed = (): SignedMessage => signMessage(messageOf(vector), secp);

  test("a changed message, a flipped signature bit, a bad recovery id", () => {
    const s = signed();
    expect(verifySignedMessage({ ...s, message: { ...s.message, nonce: s.message.nonce + 1 } })).toBe(false);
    const flipped = Uint8Array.from(s.signature.data);
    flipped[10]! ^= 1;
    expect(verifySignedMessage({ ...s, signature: { ...s.signature, data: flipped } })).toBe(false);
    const badV = Uint8Array.from(s.signature.data);
    badV[64] = 7;
    expect(verifySignedMessage({ ...s, signature: { ...s.signature, data: badV } })).toBe(false);
  });

  test("another key's address, and a signature type that does not fit the address", () => {
    const s = signed();
    expect(verifySignedMessage(s, parseAddress(vectors.bls.address))).toBe(false);
    const blsSig = signBytes(bls, messageCid(s.message).bytes);
    expect(verifyBytes(blsSig, messageCid(s.message).bytes, parseAddress(vectors.secp256k1.address))).toBe(false);
  });

  test("an ID sender needs the key address it stands for", () => {
    const s = signed();
    const fromId = { ...s, message: { ...s.message, from: "f01234" } };
    expect(() => verifySignedMessage(fromId)).toThrow(/pass the f1\/f3 address/);
    // the signature covers the message with its f01234 sender, so re-sign and check with the key address
    const resigned = signMessage(fromId.message, secp);
    expect(verifySignedMessage(resigned, parseAddress(vectors.secp256k1.address))).toBe(true);
    expect(() => verifySignedMessage(resigned, idAddress(1234))).toThrow(ChainCodecError);
  });

  test("signature bytes: unknown type, wrong lengths", () => {
    expect(() => signatureFromBytes(Uint8Array.from([3, ...new Uint8Array(65)]))).toThrow(/type byte is 3/);
    expect(() => signatureFromBytes(Uint8Array.from([1, ...new Uint8Array(64)]))).toThrow(/65 bytes, not 64/);
    expect(() => signatureToBytes({ type: "bls", data: new Uint8Array(65) })).toThrow(/96 bytes/);
    const sig = signed().signature;
    expect(signatureFromBytes(signatureToBytes(sig))).toEqual(sig);
  });

  test("a signed message with a truncated signature does not decode", () => {
    const bytes = fromHex(vectors.secp256k1.signatures[0]!.signedBytes);
    expect(() => decodeSignedMessage(bytes.slice(0, -1))).toThrow(ChainCodecError);
  });
});
