import { describe, expect, test } from "bun:test";
import { commDToCid, commRToCid } from "../../core/sector/cid.ts";
import { zeroCommD } from "../../core/sector/commd.ts";
import { b64, newSectorState, type SectorState } from "../../core/sector/wire.ts";
import { KVStore } from "../../core/store/index.ts";
import { SectorIndexer } from "../sectors/indexer.ts";
import { SectorStates } from "../sectors/states.ts";
import { UnsealService } from "./service.ts";

const bytes = (seed: number) => {
  const b = new Uint8Array(32).map((_, i) => (i * 7 + seed) & 0xff);
  b[31]! &= 0x3f;
  return b;
};
const CC_CID = commDToCid(zeroCommD(2048));
const DEAL_CID = commDToCid(bytes(1));
const DEAL_SECTOR_CID = commDToCid(bytes(2));
const TICKET = b64(bytes(3));

function sealed(n: number, commD: string, pieces: SectorState["Pieces"] = null): SectorState {
  const s = newSectorState({ Miner: 1000, Number: n }, 5);
  s.Ticket = { Ticket: TICKET, Epoch: 10 };
  s.Pre = {
    CommR: { "/": commRToCid(bytes(4)) },
    CommD: { "/": commD },
    Ticket: { Ticket: TICKET, Epoch: 10 },
    Deals: null,
  };
  s.Finalized = true;
  s.Pieces = pieces;
  return s;
}

function setup() {
  const store = KVStore.open(":memory:");
  const states = new SectorStates(store);
  const indexer = new SectorIndexer(store);
  states.saveOffline(sealed(1, CC_CID));
  const dealPiece = {
    ID: 9,
    PayloadSize: 900,
    Piece: { Size: 1024, Offset: 1024, Cid: { "/": DEAL_CID } },
    Proposal: null,
    IsCompatible: false,
  };
  states.saveOffline(sealed(2, DEAL_SECTOR_CID, [dealPiece]));
  indexer.update("normal", { Miner: 1000, Number: 1 }, { sealed: "persist-1", cache: "persist-1" });
  indexer.update("normal", { Miner: 1000, Number: 2 }, { sealed: "persist-2", cache: "persist-2" });
  const svc = new UnsealService({ store, states, indexer, actors: () => [1000] });
  return { svc, states, indexer, store };
}

const s1 = { Miner: 1000, Number: 1 };
const s2 = { Miner: 1000, Number: 2 };

describe("unseal service", () => {
  test("the piece's place comes from the sector: CommD for the whole (CC) sector, padded → unpadded for a deal", async () => {
    const { svc } = setup();
    expect(await svc.request(s1, CC_CID, 0, 0, "file:///tmp/cc")).toBe("set_up");
    expect(svc.tasks.get(s1, CC_CID)).toMatchObject({ Offset: 0, Size: 2032 });
    await svc.request(s2, DEAL_CID, 0, 0, "http://127.0.0.1:1/p");
    expect(svc.tasks.get(s2, DEAL_CID)).toMatchObject({ Offset: 1016, Size: 1016 });
    // An explicit range is the operator's word (the worker's CommP check still guards the delivery).
    await svc.request(s2, CC_CID, 1016, 1016, "store://persist-1/pieces/x");
    expect(svc.tasks.get(s2, CC_CID)).toMatchObject({ Offset: 1016, Size: 1016 });
  });

  test("a piece the sector does not hold is refused by name, with what the sector does hold", async () => {
    const { svc } = setup();
    await expect(svc.request(s1, DEAL_CID, 0, 0, "file:///tmp/x")).rejects.toThrow(
      `piece ${DEAL_CID} is not in sector s-t01000-1: it has no deal pieces; the whole sector's data is ${CC_CID}`,
    );
    await expect(svc.request(s2, CC_CID, 0, 0, "file:///tmp/x")).rejects.toThrow(
      `its pieces are ${DEAL_CID} (offset 1024, size 1024)`,
    );
    await expect(svc.request(s1, commRToCid(bytes(4)), 0, 0, "file:///tmp/x")).rejects.toThrow(
      /is not a piece\/unsealed \(CommP\/CommD\) commitment CID/,
    );
    await expect(svc.request({ Miner: 1000, Number: 99 }, CC_CID, 0, 0, "file:///tmp/x")).rejects.toThrow(
      "cannot unseal from s-t01000-99: the sector is unknown to this manager",
    );
  });

  test("ranges and destinations are checked before anything is queued", async () => {
    const { svc } = setup();
    await expect(svc.request(s1, CC_CID, 0, 1000, "file:///tmp/x")).rejects.toThrow(/not an unpadded piece size/);
    await expect(svc.request(s1, CC_CID, 1016, 2032, "file:///tmp/x")).rejects.toThrow(/runs past the sector/);
    await expect(svc.request(s1, CC_CID, 0, 0, "file://host/x")).rejects.toThrow(/names no host/);
    await expect(svc.request(s1, CC_CID, 0, 0, "ftp://h/x")).rejects.toThrow(/unsupported scheme ftp/);
    await expect(svc.request(s1, CC_CID, 0, 0, "market://s/p?host=h&scheme=http&token=t")).rejects.toThrow(
      /connected to no market/,
    );
    expect(svc.tasks.list()).toEqual([]);
  });

  test("allocation fills in ticket, CommD and the persist store, and marks the sector Unsealing until achieved", async () => {
    const { svc, states } = setup();
    await svc.request(s1, CC_CID, 0, 0, "file:///tmp/cc");
    expect(await svc.allocate({ AllowedMiners: [2000] })).toBeNull();
    expect(await svc.allocate({ AllowedProofTypes: [8] })).toBeNull();
    const got = await svc.allocate({ AllowedMiners: [1000], AllowedProofTypes: [5] });
    expect(got).toMatchObject({
      Sector: { ID: s1, ProofType: 5 },
      PrivateInfo: { AccessInstance: "persist-1" },
      Ticket: { Ticket: TICKET, Epoch: 10 },
      State: "unsealing",
    });
    expect(got!.CommD).toEqual([...zeroCommD(2048)]);
    expect(states.get("offline", s1)?.Unsealing).toBe(true);
    expect(await svc.allocate({})).toBeNull();

    expect(await svc.acquireDest(s1, CC_CID)).toEqual(["file:///tmp/cc"]);
    await svc.achieve(s1, CC_CID, "");
    expect(svc.tasks.get(s1, CC_CID)?.State).toBe("finished");
    expect(states.get("offline", s1)?.Unsealing).toBe(false);
  });

  test("a task whose sector the index does not know fails with the reason instead of being handed out", async () => {
    const { svc, states } = setup();
    states.saveOffline(sealed(3, CC_CID));
    await svc.request({ Miner: 1000, Number: 3 }, CC_CID, 0, 0, "file:///tmp/3");
    expect(await svc.allocate({})).toBeNull();
    expect(svc.tasks.get({ Miner: 1000, Number: 3 }, CC_CID)).toMatchObject({
      State: "failed",
      ErrorInfo: "s-t01000-3's sealed file is in no persist store the manager knows (not in the sector index)",
    });
  });

  test("FindSectorWithPiece finds deal pieces and whole-sector CIDs", () => {
    const { svc } = setup();
    expect(svc.findSectorWithPiece("offline", DEAL_CID)?.ID).toEqual(s2);
    expect(svc.findSectorWithPiece("offline", CC_CID)?.ID).toEqual(s1);
    expect(svc.findSectorWithPiece("online", CC_CID)).toBeNull();
  });
});
