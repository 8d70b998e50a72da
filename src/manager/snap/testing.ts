import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import { PersistStoreSchema } from "../../core/config/manager.ts";
import type { SnapUpOnChainInfo } from "../../core/sector/api-snap.ts";
import type { ChainMessage } from "../../core/sector/chain.ts";
import {
  b64,
  type DealInfo,
  pieceCid,
  pieceCommitment,
  type SectorID,
  sectorName,
  zeroCommD,
} from "../../core/sector/index.ts";
import { KVStore } from "../../core/store/index.ts";
import {
  type CommDCalculator,
  DevnetChain,
  devnetSettings,
  type PoStVerifier,
  type UpdateVerifier,
} from "../../devnet/index.ts";
import { CommitManager } from "../commit/manager.ts";
import { DealMarket } from "../market/market.ts";
import { PieceFiles } from "../market/piece-files.ts";
import { SectorIndexer } from "../sectors/indexer.ts";
import { SectorStates } from "../sectors/states.ts";
import { PersistStores } from "../stores/persist.ts";
import { SnapCandidates } from "./candidates.ts";
import type { SnapDeps } from "./deps.ts";
import type { SnapMiner } from "./records.ts";
import { SnapUp } from "./snap-up.ts";

/**
 * Test support for the snap module's tests (imported by the *.test.ts beside it only): a devnet in a
 * store (in memory, or a file a test can reopen after a simulated kill -9) with pre-sealed CC sectors whose
 * files are in a temporary persist store, the commit batcher, the embedded market and the snap module —
 * all real, with a manual clock and fake proofs: an update proof is valid when its bytes are
 * "valid-update", and CommD is a hash of the data pieces (zero pieces left out, as compute_comm_d's
 * alignment makes them irrelevant).
 */

export const ACTOR = 1000;
export const BLOCK_MS = 1000;
export const VALID_UPDATE = b64(new TextEncoder().encode("valid-update"));

/** Deadlines of 20 epochs, four per period: a sector can be updated during about half of the period. */
export const SETTINGS = devnetSettings({
  BlockTime: BLOCK_MS,
  WPoStPeriodDeadlines: 4,
  WPoStChallengeWindow: 20,
  WPoStChallengeLookback: 2,
  PreCommitChallengeDelay: 3,
  MessagePackDelay: 1,
  MessageLandDelay: 1,
});

export const fakeCommD: CommDCalculator = {
  name: "test commD",
  async computeCommD(_sealProof, pieces) {
    const h = createHash("sha256");
    for (const p of pieces) {
      if (Buffer.from(p.commP).equals(Buffer.from(zeroCommD(p.paddedSize)))) continue;
      h.update(p.commP).update(String(p.paddedSize));
    }
    const out = new Uint8Array(h.digest());
    out[31]! &= 0x3f;
    return out;
  },
};

export function fakeUpdateVerifier(): UpdateVerifier & { calls: number } {
  const verifier = {
    name: "test update verifier",
    calls: 0,
    async verifyReplicaUpdate(input: { proof: Uint8Array }) {
      verifier.calls++;
      return Buffer.from(input.proof).toString() === "valid-update";
    },
  };
  return verifier;
}

export function bytes32(label: string): number[] {
  const b = [...createHash("sha256").update(label).digest()];
  b[31]! &= 0x3f;
  return b;
}

export interface HarnessOptions {
  /** A store file to reopen (kill -9 tests); default: a fresh in-memory store. */
  storePath?: string;
  /** Pre-sealed CC sectors of miner 1000, active from genesis. */
  sectors?: number[];
  miner?: Partial<SnapMiner>;
  /** A persist store directory to reuse (with the store file). */
  persistPath?: string;
  now?: { ms: number };
  /**
   * Submit a WindowPoSt (fake proof "good") in every deadline that has sectors, as a poster would, so the
   * sectors stay healthy while a test moves time; default true.
   */
  prove?: boolean;
}

export type Harness = Awaited<ReturnType<typeof snapHarness>>;

export async function snapHarness(o: HarnessOptions = {}) {
  const clock = o.now ?? { ms: 1_700_000_000_000 };
  const now = () => clock.ms;
  const store = KVStore.open(o.storePath ?? ":memory:");
  const persistPath = o.persistPath ?? mkdtempSync(join(tmpdir(), "damocles-snap-persist-"));
  const sectors = o.sectors ?? [1, 2, 3, 4];
  const updateVerifier = fakeUpdateVerifier();
  /** The replicas each verified WindowPoSt covered, in order. */
  const provenReplicas: { sectorId: number; commR: number[] }[][] = [];
  const postVerifier: PoStVerifier = {
    name: "test PoSt verifier",
    async verifyWindowPoSt(input) {
      provenReplicas.push(input.replicas.map((r) => ({ sectorId: r.sectorId, commR: [...r.commR] })));
      return Buffer.from(input.proofs[0]!.proof).toString() === "good";
    },
    async verifyWinningPoSt() {
      return false;
    },
  };
  const chain = new DevnetChain({
    store,
    settings: SETTINGS,
    verifier: { name: "test seal verifier", verifySeal: async () => true },
    updateVerifier,
    postVerifier,
    commD: fakeCommD,
    preseal: sectors.map((number) => ({ actor: ACTOR, number, sealProof: 5, commR: bytes32(`cc-${number}`) })),
    miners: [{ actor: ACTOR, sectorSize: 2048 }],
    now,
  });
  const states = new SectorStates(store);
  const indexer = new SectorIndexer(store);
  const stores = new PersistStores(store, [v.parse(PersistStoreSchema, { Name: "persist-1", Path: persistPath })]);
  for (const number of sectors) {
    const sid = { Miner: ACTOR, Number: number };
    indexer.update("normal", sid, { sealed: "persist-1", cache: "persist-1" });
    const paths = stores.sectorPaths("persist-1", sid)!;
    mkdirSync(join(persistPath, "sealed"), { recursive: true });
    mkdirSync(paths.cache, { recursive: true });
    writeFileSync(paths.file, new Uint8Array(2048));
    writeFileSync(join(paths.cache, "p_aux"), "cc");
  }
  const policy = { threshold: 1, maxWaitMs: 3_600_000, checkIntervalMs: 3_600_000 };
  const commit = new CommitManager({
    store,
    states,
    chain,
    verifier: { name: "test seal verifier", verifySeal: async () => true },
    miners: () => [{ actor: ACTOR, sectorSize: 2048, pre: policy, prove: policy, snap: policy }],
    now,
  });
  const market = new DealMarket({
    store,
    chain,
    states,
    miners: () => [{ actor: ACTOR, sectorSize: 2048, sealProofType: 5, enableDeals: true, sealingEpochs: 50 }],
    commD: fakeCommD,
    pieces: new PieceFiles([]),
  });
  const miner: SnapMiner = {
    actor: ACTOR,
    sectorSize: 2048,
    sealProofType: 5,
    enabled: true,
    cleanupCCData: true,
    messageConfidence: 3,
    releaseConfidence: 5,
    retry: { pollIntervalMs: 1000, apiFailureWaitMs: 1000, localFailureWaitMs: 1000 },
    sealingEpochs: 50,
    ...o.miner,
  };
  const deps: SnapDeps = {
    store,
    states,
    chain,
    commit,
    market,
    indexer,
    stores,
    candidates: new SnapCandidates(store),
    verifier: updateVerifier,
    commD: fakeCommD,
    miners: () => [miner],
    now,
    random: () => 0,
  };
  const snap = new SnapUp(deps);
  await chain.tick();

  return {
    clock,
    store,
    storePath: o.storePath,
    persistPath,
    chain,
    states,
    indexer,
    stores,
    commit,
    market,
    snap,
    deps,
    updateVerifier,
    provenReplicas,
    /** Moves the chain on by whole epochs and processes them (proving each deadline unless prove = false). */
    async advance(epochs: number) {
      for (let i = 0; i < epochs; i++) {
        clock.ms += BLOCK_MS;
        await chain.tick();
        if (o.prove !== false) await proveCurrentDeadline(chain);
      }
    },
    async head() {
      return (await chain.head()).epoch;
    },
    /** Publishes a deal for miner 1000 on chain and records it in the market as waiting. */
    async publishDeal(label: string, pieceSize = 1024, startIn = 5000) {
      const head = (await chain.head()).epoch;
      const cid = pieceCid(bytes32(`piece-${label}`));
      const deal = await chain.publishDeal({
        pieceCid: cid,
        pieceSize,
        client: "f0100",
        provider: ACTOR,
        startEpoch: head + startIn,
        endEpoch: head + startIn + 100_000,
        verified: false,
        label,
      });
      market.deals.put({
        DealID: deal.id,
        PieceCID: { "/": cid },
        PieceSize: pieceSize,
        PayloadSize: pieceSize - pieceSize / 128,
        Client: "f0100",
        Provider: ACTOR,
        StartEpoch: deal.proposal.startEpoch,
        EndEpoch: deal.proposal.endEpoch,
        Verified: false,
        Label: label,
        State: "published",
        Sector: null,
        Offset: null,
        PieceStore: null,
        PublishedAt: 0,
      });
      return deal;
    },
    /** What a snapup worker submits after persisting update/ and update-cache/ into persist-1. */
    async updateFor(sid: SectorID, opts: { proof?: string; persist?: boolean } = {}): Promise<SnapUpOnChainInfo> {
      const state = states.mustOnline(sid);
      const pieces = (state.Pieces ?? []) as DealInfo[];
      const commD = await fakeCommD.computeCommD(
        5,
        pieces.map((p) => ({
          commP: pieceCommitment(p.Piece.Cid["/"]),
          paddedSize: p.Piece.Size,
        })),
      );
      if (opts.persist !== false) {
        const paths = stores.sectorPaths("persist-1", sid, true)!;
        mkdirSync(join(persistPath, "update"), { recursive: true });
        mkdirSync(paths.cache, { recursive: true });
        writeFileSync(paths.file, new Uint8Array(2048));
        writeFileSync(join(paths.cache, "p_aux"), "update");
      }
      return {
        CommR: bytes32(`update-${sectorName(sid)}`),
        CommD: [...commD],
        AccessInstance: "persist-1",
        Pieces: pieces.map((p) => p.Piece.Cid),
        Proof: opts.proof ?? VALID_UPDATE,
      };
    },
    /** The messages the chain holds for a method, oldest first. */
    chainMessages(method: ChainMessage["method"]) {
      return store
        .collection("chain")
        .scan("msg/")
        .map((e) => JSON.parse(e.value) as { cid: string; message: ChainMessage; status: string })
        .filter((m) => m.message.method === method);
    },
    close(removePersist = true) {
      commit.stop();
      snap.stop();
      chain.close();
      store.close();
      if (removePersist) rmSync(persistPath, { recursive: true, force: true });
    },
  };
}

/** Pushes a WindowPoSt for the open deadline's unproven partitions, early enough to execute inside it. */
async function proveCurrentDeadline(chain: DevnetChain): Promise<void> {
  const dl = await chain.provingDeadline(ACTOR);
  if (dl.currentEpoch + SETTINGS.MessagePackDelay >= dl.close) return;
  const parts = (await chain.provingPartitions(ACTOR, dl.open)).filter((p) => p.sectors.length > 0 && !p.proven);
  if (parts.length === 0) return;
  const info = (await chain.minerInfo(ACTOR))!;
  await chain.pushMessage({
    from: ACTOR,
    nonce: dl.open,
    method: "SubmitWindowedPoSt",
    post: {
      deadline: dl.index,
      open: dl.open,
      partitions: parts.map((p) => ({ index: p.index, skipped: [], recovered: [] })),
      proofs: [{ postProof: info.windowPoStProofType, proof: b64(new TextEncoder().encode("good")) }],
    },
  });
}
