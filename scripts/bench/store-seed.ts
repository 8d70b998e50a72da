/**
 * Seeds a manager home's store with N sectors through the manager's own classes (SectorStates,
 * SectorIndexer, SectorNumbers), in transactions of `batch` writes so a million records take a minute,
 * not an hour. What is written is what a long-running provider's store holds: finalized sectors offline
 * (ticket, seed, PreCommit, proof, message CIDs, the last worker report), a few thousand still sealing
 * online, two index keys per sector (sealed file and cache dir), the number counter, and one poster record
 * per deadline instance for `days` days of proving.
 */
import type { SectorState } from "../../src/core/sector/index.ts";
import { newSectorState } from "../../src/core/sector/index.ts";
import { KVStore } from "../../src/core/store/index.ts";
import { SectorIndexer } from "../../src/manager/sectors/indexer.ts";
import { SectorNumbers } from "../../src/manager/sectors/numbers.ts";
import { SectorStates } from "../../src/manager/sectors/states.ts";

export interface SeedOptions {
  dbPath: string;
  actor: number;
  sealProof: number;
  sectors: number;
  /** How many of the sectors (the newest numbers) are still sealing (online). */
  online: number;
  /** Persist store names the sectors are spread over. */
  stores: string[];
  /** Days of WindowPoSt records (48 deadline instances a day). */
  days: number;
  batch: number;
  onProgress?: (done: number) => void;
}

const b64 = (seed: number, salt: number, length = 32) => {
  const bytes = new Uint8Array(length);
  let x = (seed * 2654435761 + salt * 40503) >>> 0;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  return Buffer.from(bytes).toString("base64");
};
const cid = (n: number, kind: string) => ({ "/": `bafy2bzace${kind}${n.toString(36).padStart(44, "a")}` });

/** A finalized sector's record as the manager keeps it after ReportFinalized. */
export function finalizedState(actor: number, sealProof: number, n: number): SectorState {
  const s = newSectorState({ Miner: actor, Number: n }, sealProof);
  s.Ticket = { Ticket: b64(n, 1), Epoch: 1000 + n };
  s.Seed = { Seed: b64(n, 2), Epoch: 1150 + n };
  s.Pre = { CommR: cid(n, "r"), CommD: cid(n, "d"), Ticket: s.Ticket, Deals: null };
  s.Proof = { Proof: b64(n, 3, 192) }; // a 2KiB PoRep proof's size
  s.MessageInfo = { PreCommitCid: cid(n, "p"), CommitCid: cid(n, "c"), NeedSend: false };
  s.LatestState = {
    Worker: { Instance: `worker-${n % 64}`, Location: `10.0.${(n >> 8) & 255}.${n & 255}` },
    StateChange: { Prev: "Finalized", Next: "Finalized", Event: "SubmitPersistance" },
    Failure: null,
  };
  s.Finalized = true;
  return s;
}

export function seedStore(o: SeedOptions): { ms: number; dbBytes: number } {
  const started = performance.now();
  const store = KVStore.open(o.dbPath);
  try {
    const states = new SectorStates(store);
    const indexer = new SectorIndexer(store);
    const numbers = new SectorNumbers(store);
    // The home is new and its store empty: the piece index is complete, as a fresh manager's first start finds.
    states.pieces.markBuilt();
    const firstOnline = o.sectors - o.online + 1;
    for (let from = 1; from <= o.sectors; from += o.batch) {
      const to = Math.min(o.sectors, from + o.batch - 1);
      store.transaction(() => {
        for (let n = from; n <= to; n++) {
          const sid = { Miner: o.actor, Number: n };
          if (n >= firstOnline) {
            const s = newSectorState(sid, o.sealProof);
            s.LatestState = {
              Worker: { Instance: `worker-${n % 64}`, Location: "10.0.0.1" },
              StateChange: { Prev: "Empty", Next: "Allocated", Event: "SectorAllocated" },
              Failure: null,
            };
            states.create(s);
          } else {
            states.saveOffline(finalizedState(o.actor, o.sealProof, n));
            const where = o.stores[n % o.stores.length]!;
            indexer.update("normal", sid, { sealed: where, cache: where });
          }
        }
      });
      o.onProgress?.(to);
    }
    // The counter as AllocateSector leaves it, so the next number is N+1.
    store.transaction(() => {
      if ((numbers.last(o.actor) ?? 0) < o.sectors) numbers.next(o.actor, { initNumber: o.sectors - 1 });
    });
    seedPoStRecords(store, o);
  } finally {
    store.close();
  }
  return { ms: performance.now() - started, dbBytes: Bun.file(o.dbPath).size };
}

/**
 * One record per deadline instance, in the poster's format and key (collection prover,
 * poster/<actor>/<open, 12 digits>): what a poster that has proven for `days` days has written.
 */
function seedPoStRecords(store: KVStore, o: SeedOptions): void {
  const kv = store.collection("prover");
  const window = 60;
  const perDeadline = Math.ceil(o.sectors / 48);
  const partitions = Math.ceil(perDeadline / 2349);
  const instances = o.days * 48;
  store.transaction(() => {
    for (let i = 0; i < instances; i++) {
      const open = 10_000 + i * window;
      const parts = Array.from({ length: partitions }, (_, p) => p);
      kv.putJSON(`poster/${o.actor}/${String(open).padStart(12, "0")}`, {
        actor: o.actor,
        deadline: i % 48,
        open,
        close: open + window,
        challenge: open - 20,
        status: "proven",
        attempts: 1,
        startedAt: 1_700_000_000_000 + i * 1_800_000,
        finishedAt: 1_700_000_000_000 + i * 1_800_000 + 600_000,
        provingMs: 540_000,
        prover: "local",
        submissions: [
          {
            partitions: parts,
            cid: cid(i, "w")["/"],
            message: { from: o.actor, nonce: i, method: "SubmitWindowedPoSt", post: { deadline: i % 48, open } },
            status: "landed",
            sectors: perDeadline,
            skipped: [],
            recovered: [],
          },
        ],
        bad: [],
      });
    }
  });
}
