/**
 * Filecoin chain encodings, the foundation of talking to a Lotus/Venus node and of the devnet: addresses
 * of every protocol (f0..f4, f/t networks), RLE+ bitfields with the chain's strict decoding and limits,
 * token amounts (big.Int bytes, FIL strings), the params of the miner-actor methods the manager sends as
 * builtin-actors CBOR tuples and the translation between them and the ChainMessage the manager and the
 * devnet speak (toMinerCall / fromMinerCall / minerMessage, deals as DDO pieces), unsigned and signed messages with their CIDs, and secp256k1/BLS keys and
 * signatures. Every byte is checked against Go vectors (tools/vectors, tests/fixtures/vectors/chain.json).
 *
 * Conventions: numbers that the chain holds as u64/i64 (sector numbers, epochs, nonces, gas limits) are
 * JavaScript numbers below 2^53, token amounts are bigint attoFIL, addresses and CIDs travel as strings,
 * bytes as Uint8Array. Every refusal is a ChainCodecError whose `code` says what kind of input it was and
 * whose message names the field. Commitment CIDs (CommR, CommD/CommP) are core/sector's cid.ts.
 * The keystore (keystore.ts) holds the manager's own keys as Lotus key-info files under <home>/keystore/;
 * its refusals are KeystoreErrors, with codes of their own.
 * `cbor` is the field-codec toolkit the params are written in, for more tuples of the same kind.
 */

export * from "./address.ts";
export * from "./bitfield.ts";
export * as cbor from "./cbor.ts";
export * from "./errors.ts";
export * from "./keys.ts";
export * from "./keystore.ts";
export * from "./message.ts";
export * from "./miner-call-pieces.ts";
export * from "./miner-calls.ts";
export * from "./miner-params.ts";
export * from "./rleplus.ts";
export * from "./signature.ts";
export * from "./signed-message.ts";
export * from "./token.ts";
