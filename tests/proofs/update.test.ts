import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  addPiece,
  computeCommD,
  emptySectorUpdateDecodeFrom,
  emptySectorUpdateEncodeInto,
  emptySectorUpdateRemoveEncodedData,
  generateEmptySectorUpdatePartitionProofs,
  generateEmptySectorUpdateProofWithVanilla,
  updateProofFor,
  verifyEmptySectorUpdatePartitionProofs,
  verifyEmptySectorUpdateProof,
} from "../../src/core/proofs/index.ts";
import { writeRandomPayload } from "../../src/core/proofs/lifecycle.ts";
import { sealed2KiB } from "../fixtures/sealed-2kib.ts";

// Real proofs: the shared fixture seals with two C2 SNARKs on first use (minutes on a 2-core machine).
setDefaultTimeout(20 * 60_000);

describe("empty-sector update / SnapDeals (2KiB, real proofs)", () => {
  test("encode into a CC sector, prove, verify, decode the data back, recover the sector key", async () => {
    const f = await sealed2KiB();
    const cc = f.cc;
    const updateProof = updateProofFor(f.registeredProof);
    const dir = mkdtempSync(join(f.dir, "snap-")); // removed with the fixture

    // Deal data filling the whole sector.
    const payloadPath = join(dir, "payload.bin");
    const payload = writeRandomPayload(payloadPath, 2032);
    const stagedDataPath = join(dir, "staged");
    writeFileSync(stagedDataPath, new Uint8Array(0));
    const { piece } = await addPiece({
      registeredProof: f.registeredProof,
      source: { path: payloadPath },
      stagedPath: stagedDataPath,
      pieceSize: 2032,
    });
    const pieces = [piece];
    const staged = new Uint8Array(readFileSync(stagedDataPath));
    expect(staged.length).toBe(2048);

    const newReplicaPath = join(dir, "update");
    const newCachePath = join(dir, "update-cache");
    const enc = await emptySectorUpdateEncodeInto({
      updateProof,
      newReplicaPath,
      newCachePath,
      sectorKeyPath: cc.sealedPath,
      sectorKeyCachePath: cc.cacheDir,
      stagedDataPath,
      pieces,
    });
    expect(
      Buffer.from(enc.commDNew).equals(Buffer.from(await computeCommD({ registeredProof: f.registeredProof, pieces }))),
    ).toBe(true);
    expect(Buffer.from(enc.commRNew).equals(Buffer.from(cc.commR))).toBe(false);

    const comms = { updateProof, commROld: cc.commR, commRNew: enc.commRNew, commDNew: enc.commDNew };
    const paths = {
      sectorKeyPath: cc.sealedPath,
      sectorKeyCachePath: cc.cacheDir,
      replicaPath: newReplicaPath,
      replicaCachePath: newCachePath,
    };
    const vanilla = await generateEmptySectorUpdatePartitionProofs({ ...comms, ...paths });
    expect(vanilla.length).toBe(1);
    expect(await verifyEmptySectorUpdatePartitionProofs({ ...comms, partitionProofs: vanilla })).toBe(true);

    const proof = await generateEmptySectorUpdateProofWithVanilla({ ...comms, vanillaProofs: vanilla });
    expect(await verifyEmptySectorUpdateProof({ ...comms, proof })).toBe(true);
    expect(await verifyEmptySectorUpdateProof({ ...comms, commROld: f.data.commR, proof })).toBe(false);

    // Decode: the staged (fr32-padded) data comes back byte for byte.
    const decoded = join(dir, "decoded");
    await emptySectorUpdateDecodeFrom({
      updateProof,
      outDataPath: decoded,
      replicaPath: newReplicaPath,
      sectorKeyPath: cc.sealedPath,
      sectorKeyCachePath: cc.cacheDir,
      commDNew: enc.commDNew,
    });
    expect(Buffer.from(readFileSync(decoded)).equals(Buffer.from(staged))).toBe(true);
    expect(payload.length).toBe(2032);

    // Remove the data again: the original CC replica (sector key) is rebuilt. As in rust-fil-proofs'
    // own lifecycle test, replicaCachePath is the cache of the ORIGINAL sealing (its p_aux/t_aux).
    const keyDir = join(dir, "key");
    mkdirSync(keyDir);
    const sectorKeyPath = join(keyDir, "sealed");
    await emptySectorUpdateRemoveEncodedData({
      updateProof,
      sectorKeyPath,
      sectorKeyCachePath: join(keyDir, "cache"),
      replicaPath: newReplicaPath,
      replicaCachePath: cc.cacheDir,
      dataPath: stagedDataPath,
      commDNew: enc.commDNew,
    });
    expect(Buffer.from(readFileSync(sectorKeyPath)).equals(Buffer.from(readFileSync(cc.sealedPath)))).toBe(true);
  });
});
