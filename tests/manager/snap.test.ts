import { afterEach, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RpcCallError } from "../../src/core/rpc/index.ts";
import { Venus } from "../../src/core/sector/api.ts";
import { Market } from "../../src/core/sector/api-market.ts";
import { VenusSnap, VenusSnapCli } from "../../src/core/sector/api-snap.ts";
import { type DealInfo, pieceCommitment, SubmitResult } from "../../src/core/sector/index.ts";
import type { PieceHasher } from "../../src/manager/market/import.ts";
import { fakeUpdateVerifier, VALID_UPDATE } from "../../src/manager/snap/testing.ts";
import { runCli } from "../helpers/cli.ts";
import { PRESEAL_COMM_R, startTestManager, type TestManager } from "./fixture.ts";
import { waitFor } from "./helpers.ts";
import { jsCommD } from "./market-helpers.ts";

/**
 * SnapDeals through the manager daemon, with fake proofs (an update proof is valid when its bytes are
 * "valid-update"): `util sealer snap fetch|candidates|cancel`, then what a snapup worker does over RPC
 * (AllocateSanpUpSector, persist update/ + update-cache/, SubmitSnapUpProof, ReportFinalized), and the
 * snap committer taking the update on chain to a finalized sector with its CC data removed.
 */

let t: TestManager | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const fakeHasher: PieceHasher = {
  name: "sha256 stand-in",
  async pieceCommitment(_proof, path) {
    const out = new Uint8Array(createHash("sha256").update(readFileSync(path)).digest());
    out[31]! &= 0x3f;
    return out;
  },
};

const spec = {
  Sector: { AllowedMiners: null, AllowedProofTypes: null },
  Deals: { MaxDeals: null, MinUsedSpace: null },
};

async function snapManager() {
  t = await startTestManager({
    presealed: [1, 2, 3, 4],
    updateVerifier: fakeUpdateVerifier(),
    pieceHasher: fakeHasher,
    miner: {
      SnapUp: {
        Enabled: true,
        MessageConfidence: 2,
        ReleaseConfidence: 2,
        Retry: { PollInterval: "1s", APIFailureWait: "1s", LocalFailureWait: "1s" },
        Batch: { Threshold: 1, CheckInterval: "1s" },
      },
    },
  });
  return t;
}

const api = (tm: TestManager) => ["--api", new URL(tm.manager.url).host, "--token", tm.tokens.admin];

describe("SnapDeals on the manager", () => {
  test("snap fetch and candidates, a worker's snap over RPC, the committer to a finalized sector", async () => {
    const tm = await snapManager();
    const fetched = await runCli(["util", "sealer", "snap", "fetch", "1000", ...api(tm)]);
    expect(fetched.stderr).toBe("");
    expect(fetched.code).toBe(0);
    const m = fetched.stdout.match(/^miner 1000: (\d+) candidate sector\(s\) in the mutable deadlines, (\d+) new$/m);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(0);
    const listed = await runCli(["util", "sealer", "snap", "candidates", "1000", ...api(tm)]);
    expect(listed.stdout).toContain("Deadline  Count  Sectors");
    expect(listed.stdout).toContain(`${m![1]} candidate(s)`);
    const frozen = await runCli(["util", "sealer", "snap", "fetch", "1000", "9", ...api(tm)]);
    expect(frozen.code).not.toBe(0);
    expect(frozen.stderr).toContain("deadline 9 does not exist: miner 1000 has deadlines 0..3");

    // No deals yet: nothing to allocate.
    expect(await tm.client.call(VenusSnap.AllocateSanpUpSector, spec)).toBeNull();
    const path = join(tm.home, "deal.bin");
    writeFileSync(path, Buffer.alloc(1016, 7));
    const deal = await tm.client.call(Market.Import, path, { StartEpoch: 5000, Miner: null });

    const a = (await tm.client.call(VenusSnap.AllocateSanpUpSector, spec))!;
    expect(a.Private.AccessInstance).toBe("persist-1");
    const sid = a.Sector.ID;
    expect(a.Public.CommR).toEqual(PRESEAL_COMM_R(sid.Number));
    const pieces = a.Pieces as DealInfo[];
    expect(pieces.filter((p) => p.ID !== 0).map((p) => p.ID)).toEqual([deal.DealID]);

    // The worker persists update/ + update-cache/ and submits.
    const name = `s-t01000-${sid.Number}`;
    const info = {
      CommR: Array.from({ length: 32 }, (_, i) => (i === 31 ? 1 : 200 - i)),
      CommD: [
        ...jsCommD(
          2048,
          pieces.map((p) => ({ commP: pieceCommitment(p.Piece.Cid["/"]), paddedSize: p.Piece.Size })),
        ),
      ],
      AccessInstance: "persist-1",
      Pieces: pieces.map((p) => p.Piece.Cid),
      Proof: VALID_UPDATE,
    };
    expect((await tm.client.call(VenusSnap.SubmitSnapUpProof, sid, info)).Res).toBe(SubmitResult.FilesMissed);
    mkdirSync(join(tm.persistPath, "update"), { recursive: true });
    mkdirSync(join(tm.persistPath, "update-cache", name), { recursive: true });
    writeFileSync(join(tm.persistPath, "update", name), new Uint8Array(2048));
    writeFileSync(join(tm.persistPath, "update-cache", name, "p_aux"), "u");
    expect((await tm.client.call(VenusSnap.SubmitSnapUpProof, sid, info)).Res).toBe(SubmitResult.Accepted);
    // The worker finishes; the sector stays online until the committer finalizes it.
    expect(await tm.client.call(Venus.ReportFinalized, sid)).toBeNull();
    expect((await tm.client.call(Venus.FindSector, "online", sid))?.Upgraded).toBe(true);
    // Cancelling is refused for a sector whose message went out, and for one that is not online.
    const cancelOther = await runCli(["util", "sealer", "snap", "cancel", "1000", "99", ...api(tm)]);
    expect(cancelOther.code).not.toBe(0);
    expect(cancelOther.stderr).toContain("sector state not found");

    // The committer: batch sent once the deadline is mutable, landed, confidences, CC data removed.
    const cc = join(tm.persistPath, "sealed", name);
    await waitFor(
      async () => {
        await tm.advance(1);
        return (await tm.client.call(Venus.FindSector, "offline", sid))?.Finalized;
      },
      "the snap sector to be finalized",
      30_000,
      1,
    );
    const done = (await tm.client.call(Venus.FindSector, "offline", sid))!;
    expect(done).toMatchObject({ Upgraded: true, Finalized: true, AbortReason: "" });
    expect(done.UpgradeMessageID).toBeString();
    expect(existsSync(cc)).toBe(false);
    expect(existsSync(join(tm.persistPath, "update", name))).toBe(true);
    const chain = tm.manager.services.chain;
    expect((await chain.sectorInfo(1000, sid.Number))?.commR).toEqual(info.CommR);
    expect(await tm.client.call(Venus.SectorIndexerFind, "upgrade", sid)).toEqual({
      Found: true,
      Instance: { SealedFile: "persist-1", CacheDir: "persist-1" },
    });
    const deals = await tm.client.call(Market.Deals, 1000);
    expect(deals?.find((d) => d.DealID === deal.DealID)).toMatchObject({ State: "active", Sector: sid });

    // An RPC refusal names the reason (InvalidParams).
    const err = await tm.client.call(VenusSnapCli.SnapUpPreFetch, 1000, 47).catch((e) => e);
    expect(err).toBeInstanceOf(RpcCallError);
    expect((err as RpcCallError).rpcMessage).toContain("deadline 47 does not exist");
  });
});
