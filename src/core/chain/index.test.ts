import { expect, test } from "bun:test";
import * as chain from "./index.ts";

test("the barrel offers the codecs and the cbor toolkit under its own name", () => {
  for (const name of [
    "parseAddress",
    "bitfieldToNumbers",
    "encodeRuns",
    "tokenToBytes",
    "encodeMinerParams",
    "toMinerCall",
    "fromMinerCall",
    "minerMessage",
    "encodeMessage",
    "signMessage",
    "signedMessageCid",
    "ChainCodecError",
  ]) {
    expect(typeof (chain as Record<string, unknown>)[name]).toBe("function");
  }
  expect(typeof chain.cbor.tuple).toBe("function");
  expect(chain.MINER_METHODS.PreCommitSectorBatch2).toBe(28);
});
