import { describe, expect, test } from "bun:test";
import { newSectorState, type SectorState, sectorKey } from "../../core/sector/index.ts";
import { KVStore } from "../../core/store/index.ts";
import { pieceCidsOf } from "./piece-index.ts";
import { SectorStates } from "./states.ts";

const CC = "baga6ea4seaqpy7usqklokfx2vxuynmupslkeutzexe2uqurdg5vhtebhxqmpqmy";
const OTHER = "baga6ea4seaqaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const DEAL = "baga6ea4seaqdealdealdealdealdealdealdealdealdealdealdealdealdeal";

function sealed(n: number, commD: string, dealCid?: string): SectorState {
  const s = newSectorState({ Miner: 1000, Number: n }, 5);
  s.Pre = {
    CommR: { "/": "bagboea4b5abc" },
    CommD: { "/": commD },
    Ticket: { Ticket: Buffer.alloc(32).toString("base64"), Epoch: 1 },
    Deals: null,
  };
  s.Finalized = true;
  if (dealCid)
    s.Pieces = [{ ID: 1, PayloadSize: 100, Piece: { Size: 128, Offset: 0, Cid: { "/": dealCid } }, Proposal: null }];
  return s;
}

const holds = (cid: string) => (s: SectorState) => pieceCidsOf(s).includes(cid);
const indexKeys = (store: KVStore) =>
  store
    .collection("meta")
    .scan("sector-pieces/")
    .map((e) => e.key);

describe("SectorStates pages", () => {
  test("pages walk the store from a cursor; fewer than the limit means the end; the unpaged list is sorted by number", () => {
    const states = new SectorStates(KVStore.open(":memory:"));
    for (let n = 1; n <= 25; n++) states.create(newSectorState({ Miner: 1000, Number: n }, 5));
    const seen: number[] = [];
    let after: SectorState["ID"] | undefined;
    for (;;) {
      const page = states.page("online", { limit: 10, after });
      seen.push(...page.map((s) => s.ID.Number));
      if (page.length < 10) break;
      after = page[page.length - 1]!.ID;
    }
    // Store key order (m-1000-n-<number> as text), each sector once.
    expect(seen).toEqual(
      Array.from({ length: 25 }, (_, i) => i + 1).sort((a, b) =>
        sectorKey({ Miner: 1000, Number: a }) < sectorKey({ Miner: 1000, Number: b }) ? -1 : 1,
      ),
    );
    expect(states.list("online").map((s) => s.ID.Number)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect([...states.each("online")].length).toBe(25);
  });

  test("a job filter fills the page from further on in the store", () => {
    const states = new SectorStates(KVStore.open(":memory:"));
    for (let n = 1; n <= 30; n++) {
      const s = newSectorState({ Miner: 1000, Number: n }, 5);
      s.Upgraded = n % 3 === 0;
      states.create(s);
    }
    const page = states.page("online", { limit: 4, job: 2 });
    expect(page.length).toBe(4);
    expect(page.every((s) => s.Upgraded)).toBe(true);
    const rest = states.page("online", { limit: 100, job: 2, after: page[3]!.ID });
    expect(page.length + rest.length).toBe(10);
  });
});

describe("the piece index", () => {
  test("follows every write: lowest number first, moves with the sector, forgets pieces a sector no longer holds", async () => {
    const store = KVStore.open(":memory:");
    const states = new SectorStates(store);
    expect(await states.indexPieces()).toBe(0); // empty store: complete at once
    expect(states.pieces.built()).toBe(true);
    for (const n of [10, 9, 100]) states.saveOffline(sealed(n, CC));
    // 9 < 10 < 100 as numbers, as the unindexed search answered (as text "10" < "100" < "9").
    expect(states.findWithPiece("offline", CC, holds(CC))?.ID.Number).toBe(9);

    states.create(newSectorState({ Miner: 1000, Number: 200 }, 5));
    states.update({ Miner: 1000, Number: 200 }, (s) => {
      s.Pre = sealed(200, OTHER).Pre;
      s.Pieces = sealed(200, OTHER, DEAL).Pieces;
    });
    expect(states.findWithPiece("online", DEAL, holds(DEAL))?.ID.Number).toBe(200);
    expect(states.findWithPiece("offline", DEAL, holds(DEAL))).toBeUndefined();

    await states.moveOffline({ Miner: 1000, Number: 200 }, () => {});
    expect(states.findWithPiece("online", DEAL, holds(DEAL))).toBeUndefined();
    expect(states.findWithPiece("offline", DEAL, holds(DEAL))?.ID.Number).toBe(200);

    await states.moveOnline({ Miner: 1000, Number: 200 }, (s) => {
      s.Pieces = null;
    });
    expect(states.findWithPiece("online", DEAL, holds(DEAL))).toBeUndefined();
    expect(states.findWithPiece("online", OTHER, holds(OTHER))?.ID.Number).toBe(200);
    // Exactly one key per piece a sector holds where it is: nothing stale is left behind.
    expect(indexKeys(store).length).toBe(4);
  });

  test("an older store is indexed once in the background; until then lookups read every state", async () => {
    const store = KVStore.open(":memory:");
    // States as a manager without the index wrote them: the records only.
    const offline = store.collection("offline_meta");
    for (let n = 1; n <= 600; n++) {
      const s = sealed(n, n % 2 === 0 ? CC : `${OTHER.slice(0, -6)}${String(n).padStart(6, "0")}`);
      offline.putJSON(`sector-states-offline/${sectorKey(s.ID)}`, s);
    }
    const states = new SectorStates(store);
    expect(states.pieces.built()).toBe(false);
    expect(states.findWithPiece("offline", CC, holds(CC))?.ID.Number).toBe(2);
    expect(await states.indexPieces()).toBe(600);
    expect(states.pieces.built()).toBe(true);
    expect(states.findWithPiece("offline", CC, holds(CC))?.ID.Number).toBe(2);
    const odd = `${OTHER.slice(0, -6)}000599`;
    expect(states.findWithPiece("offline", odd, holds(odd))?.ID.Number).toBe(599);
    expect(indexKeys(store).length).toBe(600);
    expect(await states.indexPieces()).toBe(0);
  });
});
