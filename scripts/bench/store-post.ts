/**
 * The poster's per-deadline work at scale, on a seeded store: the partitions of one deadline (from a fake
 * in-process chain: the chain is not the subject), every sector of them located through the real
 * SectorIndexer and locateReplica, and PoSter.checkPartitions of one 2,349-sector partition whose files
 * are faked (sparse sealed files of the sector's size, cache dirs with p_aux and tree-r-last): the files'
 * contents are what proofs read, and proofs are not measured here.
 */
import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { PoStChain, ProvingPartition, ProvingSector } from "../../src/core/sector/chain.ts";
import { sectorName } from "../../src/core/sector/index.ts";
import { KVStore } from "../../src/core/store/index.ts";
import { PoSter } from "../../src/manager/poster/poster.ts";
import { SectorIndexer } from "../../src/manager/sectors/indexer.ts";
import { locateReplica, type SectorLocator } from "../../src/manager/stores/locate.ts";

export const PARTITION_SECTORS = 2349;
const DEADLINES = 48;
const WINDOW = 60;

/** A chain that assigns sector n to deadline n mod 48, in partitions of 2,349 by number. */
export function fakePoStChain(actor: number, sealProof: number, provenSectors: number, sectorSize: number): PoStChain {
  const notUsed = (what: string) => () => Promise.reject(new Error(`${what} is not part of the store benchmark`));
  const commR = (n: number) => Array.from({ length: 32 }, (_, i) => (n * 31 + i) & 255);
  return {
    head: async () => ({ epoch: 100_000 }) as Awaited<ReturnType<PoStChain["head"]>>,
    policy: () =>
      ({ wpostChallengeWindow: WINDOW, wpostPeriodDeadlines: DEADLINES }) as ReturnType<PoStChain["policy"]>,
    minerInfo: async () => ({ actor, sectorSize, sealProofType: sealProof, windowPoStProofType: 0 }),
    provingDeadline: notUsed("provingDeadline"),
    async provingPartitions(_actor: number, open: number): Promise<ProvingPartition[]> {
      const deadline = Math.floor(open / WINDOW) % DEADLINES;
      const sectors: ProvingSector[] = [];
      for (let n = deadline === 0 ? DEADLINES : deadline; n <= provenSectors; n += DEADLINES)
        sectors.push({ number: n, sealProof, commR: commR(n), upgraded: false });
      const partitions: ProvingPartition[] = [];
      for (let i = 0; i < sectors.length; i += PARTITION_SECTORS)
        partitions.push({
          index: partitions.length,
          sectors: sectors.slice(i, i + PARTITION_SECTORS),
          faults: [],
          proven: false,
        });
      return partitions;
    },
    windowPoStRandomness: async () => new Uint8Array(32),
    pushMessage: notUsed("pushMessage"),
    messageLookup: notUsed("messageLookup"),
    isElected: notUsed("isElected"),
    winningPoStRandomness: notUsed("winningPoStRandomness"),
    winningSectorSet: notUsed("winningSectorSet"),
    submitBlock: notUsed("submitBlock"),
    faults: notUsed("faults"),
    postRecords: notUsed("postRecords"),
    provingStats: notUsed("provingStats"),
  };
}

/** Sparse sealed files and minimal cache dirs for the sectors, under <root>/<store>/{sealed,cache}. */
export function fakeReplicaFiles(
  root: (store: string) => string,
  actor: number,
  sectors: { number: number; store: string }[],
  sectorSize: number,
): void {
  for (const s of sectors) {
    const base = root(s.store);
    const name = sectorName({ Miner: actor, Number: s.number });
    const sealed = join(base, "sealed", name);
    if (existsSync(sealed)) continue;
    mkdirSync(join(base, "sealed"), { recursive: true });
    const cache = join(base, "cache", name);
    mkdirSync(cache, { recursive: true });
    const fd = openSync(sealed, "w");
    ftruncateSync(fd, sectorSize);
    closeSync(fd);
    writeFileSync(join(cache, "p_aux"), "p_aux");
    writeFileSync(join(cache, "t_aux"), "t_aux");
    writeFileSync(join(cache, "sc-02-data-tree-r-last.dat"), "tree-r-last");
  }
}

export interface DeadlineFigures {
  deadline: number;
  partitions: number;
  sectors: number;
  chainMs: number;
  locateMs: number;
  located: number;
  checkMs: number;
  checkGood: number;
  checkBad: number;
}

export async function measureDeadline(o: {
  dbPath: string;
  filesRoot: string;
  actor: number;
  sealProof: number;
  provenSectors: number;
  stores: string[];
  sectorSize: number;
  deadline: number;
}): Promise<DeadlineFigures> {
  const store = KVStore.open(o.dbPath);
  try {
    const indexer = new SectorIndexer(store);
    const locator: SectorLocator = { find: async (type, sid) => indexer.find(type, sid) };
    const storePaths = (name: string) => (o.stores.includes(name) ? join(o.filesRoot, name) : undefined);
    const chain = fakePoStChain(o.actor, o.sealProof, o.provenSectors, o.sectorSize);

    let t = performance.now();
    const partitions = await chain.provingPartitions(o.actor, o.deadline * WINDOW);
    const chainMs = performance.now() - t;
    const sectors = partitions.flatMap((p) => p.sectors);

    t = performance.now();
    let located = 0;
    for (const s of sectors) if ((await locateReplica(locator, storePaths, o.actor, s)).ok) located++;
    const locateMs = performance.now() - t;

    const first = partitions[0]!;
    fakeReplicaFiles(
      (name) => join(o.filesRoot, name),
      o.actor,
      first.sectors.map((s) => ({ number: s.number, store: o.stores[s.number % o.stores.length]! })),
      o.sectorSize,
    );
    const poster = new PoSter({
      chain,
      store,
      locator,
      storePaths,
      prover: { name: "none", generateWindowPoSt: () => Promise.reject(new Error("no proofs in this benchmark")) },
      miners: [],
      limits: { parallelCheckLimit: 128, singleCheckTimeoutMs: 600_000, partitionCheckTimeoutMs: 1_200_000 },
    });
    t = performance.now();
    const checked = await poster.checkPartitions(
      { actor: o.actor, strictCheck: false },
      0,
      o.sectorSize,
      [first],
      new Uint8Array(32),
    );
    const checkMs = performance.now() - t;
    return {
      deadline: o.deadline,
      partitions: partitions.length,
      sectors: sectors.length,
      chainMs,
      locateMs,
      located,
      checkMs,
      checkGood: checked.good.length,
      checkBad: checked.bad.length,
    };
  } finally {
    store.close();
  }
}
