import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, rmSync } from "node:fs";
import {
  generateFallbackSectorChallenges,
  generateSingleVanillaProof,
  generateSingleWindowPostWithVanilla,
  generateWindowPost,
  generateWindowPostWithVanilla,
  generateWinningPost,
  generateWinningPostSectorChallenge,
  getNumPartitionForFallbackPost,
  mergeWindowPostPartitionProofs,
  type PrivateReplica,
  verifyWindowPost,
  verifyWinningPost,
} from "../../src/core/proofs/index.ts";
import type { SealedSector } from "../../src/core/proofs/lifecycle.ts";
import { windowPoStProofFor, winningPoStProofFor } from "../../src/core/sector/proof.ts";
import { sealed2KiB } from "../fixtures/sealed-2kib.ts";

// Real proofs: the shared fixture seals with two C2 SNARKs on first use (minutes on a 2-core machine).
setDefaultTimeout(20 * 60_000);

const randomness = new Uint8Array(createHash("sha256").update("damocles test post randomness").digest());
const replica = (s: SealedSector): PrivateReplica => ({
  sectorId: s.sectorId,
  commR: s.commR,
  cacheDir: s.cacheDir,
  sealedPath: s.sealedPath,
});
const pub = (s: SealedSector) => ({ sectorId: s.sectorId, commR: s.commR });

describe("WinningPoSt (2KiB, real proofs)", () => {
  test("challenge, generate and verify; wrong randomness fails", async () => {
    const f = await sealed2KiB();
    const postProof = winningPoStProofFor(f.registeredProof);
    const sectors = [f.cc, f.data];
    const idx = await generateWinningPostSectorChallenge({
      postProof,
      randomness,
      proverId: f.proverId,
      sectorSetLen: sectors.length,
    });
    expect(idx.length).toBe(1);
    const chosen = sectors[idx[0]!]!;
    const proofs = await generateWinningPost({
      postProof,
      randomness,
      proverId: f.proverId,
      replicas: [replica(chosen)],
    });
    expect(proofs.length).toBe(1);
    expect(proofs[0]!.postProof).toBe(postProof);
    const ok = await verifyWinningPost({
      postProof,
      randomness,
      proverId: f.proverId,
      proof: proofs[0]!.proof,
      replicas: [pub(chosen)],
    });
    expect(ok).toBe(true);
    const other = new Uint8Array(randomness);
    other[0]! ^= 0xff;
    const bad = await verifyWinningPost({
      postProof,
      randomness: other,
      proverId: f.proverId,
      proof: proofs[0]!.proof,
      replicas: [pub(chosen)],
    });
    expect(bad).toBe(false);
  });
});

describe("WindowPoSt (2KiB, real proofs)", () => {
  test("generate and verify over all sectors", async () => {
    const f = await sealed2KiB();
    const postProof = windowPoStProofFor(f.registeredProof);
    const sectors = [f.cc, f.data];
    const r = await generateWindowPost({ postProof, randomness, proverId: f.proverId, replicas: sectors.map(replica) });
    expect(r.faults).toEqual([]);
    expect(r.proofs.length).toBe(1);
    expect(
      await verifyWindowPost({ randomness, proverId: f.proverId, proofs: r.proofs, replicas: sectors.map(pub) }),
    ).toBe(true);
    // The proof does not cover a different sector set.
    expect(
      await verifyWindowPost({
        randomness,
        proverId: f.proverId,
        proofs: r.proofs,
        replicas: [pub(f.cc), { ...pub(f.data), sectorId: 7 }],
      }),
    ).toBe(false);
  });

  test("a sector whose sealed file was removed is reported faulty; the rest still prove", async () => {
    const f = await sealed2KiB();
    const postProof = windowPoStProofFor(f.registeredProof);
    // The spare sector is ours to break (nothing else uses it after this).
    rmSync(f.spare.sealedPath);
    expect(existsSync(f.spare.sealedPath)).toBe(false);
    const sectors = [f.cc, f.data, f.spare];
    const r = await generateWindowPost({ postProof, randomness, proverId: f.proverId, replicas: sectors.map(replica) });
    expect(r.faults).toEqual([f.spare.sectorId]);
    expect(r.proofs.length).toBe(1);
    const good = [f.cc, f.data].map(pub);
    expect(await verifyWindowPost({ randomness, proverId: f.proverId, proofs: r.proofs, replicas: good })).toBe(true);
  });

  test("vanilla flow: challenges → vanilla proofs → per-partition SNARK → merge, and with_vanilla", async () => {
    const f = await sealed2KiB();
    const postProof = windowPoStProofFor(f.registeredProof);
    const sectors = [f.cc, f.data];
    expect(await getNumPartitionForFallbackPost({ postProof, numSectors: sectors.length })).toBe(1);
    const challenges = await generateFallbackSectorChallenges({
      postProof,
      randomness,
      proverId: f.proverId,
      sectorIds: sectors.map((s) => s.sectorId),
    });
    expect([...challenges.keys()].sort()).toEqual([1, 2]);
    const vanilla = [];
    for (const s of sectors) {
      vanilla.push(
        await generateSingleVanillaProof({ postProof, replica: replica(s), challenges: challenges.get(s.sectorId)! }),
      );
    }
    const part = await generateSingleWindowPostWithVanilla({
      postProof,
      randomness,
      proverId: f.proverId,
      vanillaProofs: vanilla,
      partitionIndex: 0,
    });
    const merged = await mergeWindowPostPartitionProofs({ postProof, partitionProofs: [part.proof] });
    const replicas = sectors.map(pub);
    expect(await verifyWindowPost({ randomness, proverId: f.proverId, proofs: [merged], replicas })).toBe(true);
    const direct = await generateWindowPostWithVanilla({
      postProof,
      randomness,
      proverId: f.proverId,
      vanillaProofs: vanilla,
    });
    expect(await verifyWindowPost({ randomness, proverId: f.proverId, proofs: direct, replicas })).toBe(true);
  });
});
