import { describe, expect, test } from "bun:test";
import type { OnChainSector } from "../../core/sector/chain.ts";
import { commRToCid } from "../../core/sector/cid.ts";
import { zeroCommD } from "../../core/sector/commd.ts";
import { b64, newSectorState, type SectorState } from "../../core/sector/wire.ts";
import { KVStore } from "../../core/store/index.ts";
import { SectorStates } from "../sectors/states.ts";
import { RebuildRefusedError, RebuildService } from "./service.ts";

const COMM_R = Array.from({ length: 32 }, (_, i) => (i * 11 + 3) & 0x3f);
const TICKET = { Ticket: b64(new Uint8Array(32).fill(7)), Epoch: 12 };
const DEAL = {
  ID: 9,
  PayloadSize: 900,
  Piece: { Size: 1024, Offset: 0, Cid: { "/": "baga6ea4seaqao7s73y24kcutaosvacpdjgfe5pw76ooefnyqw4ynr3d2y6x2mpq" } },
  Proposal: null,
  IsCompatible: false,
};

function finalized(n: number, patch: Partial<SectorState> = {}): SectorState {
  const s = newSectorState({ Miner: 1000, Number: n }, 5);
  s.Ticket = TICKET;
  s.Pre = {
    CommR: { "/": commRToCid(COMM_R) },
    CommD: { "/": commRToCid(zeroCommD(2048)) },
    Ticket: TICKET,
    Deals: null,
  };
  s.Finalized = true;
  return { ...s, ...patch };
}

/** Sectors the fake chain holds as updated by a snap deal: CommR the update's, the sector key COMM_R. */
const UPDATE_COMM_R = COMM_R.map((b) => (b + 1) & 0x3f);
const CC_PUBLIC = { CommR: COMM_R, SealedCID: { "/": commRToCid(COMM_R) }, Activation: 20, Expiration: 100_000 };

function setup(onChain: number[] = [1, 2, 3, 4, 5], updated: number[] = []) {
  const store = KVStore.open(":memory:");
  const states = new SectorStates(store);
  const chain = {
    async sectorInfo(actor: number, number: number): Promise<OnChainSector | undefined> {
      if (actor !== 1000 || !onChain.includes(number)) return undefined;
      const sector = { number, sealProof: 5, activation: 20, expiration: 100_000, deadline: 0, partition: 0 };
      if (updated.includes(number)) return { ...sector, commR: UPDATE_COMM_R, sectorKeyCommR: COMM_R };
      return { ...sector, commR: COMM_R };
    },
  };
  let now = 1_000;
  const svc = new RebuildService({ store, states, chain, actors: () => [1000], now: () => now++ });
  return { svc, states, store };
}

const sid = (n: number) => ({ Miner: 1000, Number: n });
const spec = { AllowedMiners: null, AllowedProofTypes: null };

async function refusal(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RebuildRefusedError);
  return (err as Error).message;
}

describe("rebuild service", () => {
  test("a proven, finalized CC sector is queued once: back online with NeedRebuild, and handed out with its ticket and on-chain CommR", async () => {
    const { svc, states } = setup();
    states.saveOffline(finalized(1));
    expect(await svc.request(sid(1), { PiecesAvailable: false })).toBe(true);
    const online = states.get("online", sid(1))!;
    expect(online).toMatchObject({ NeedRebuild: true, Finalized: false });
    expect(states.get("offline", sid(1))).toBeUndefined();
    expect(await svc.request(sid(1), { PiecesAvailable: false })).toBe(false);
    expect(svc.tasks.get(sid(1))?.State).toBe("queued");

    const info = await svc.allocate(spec);
    expect(info).toEqual({
      Sector: { ID: sid(1), ProofType: 5 },
      Ticket: TICKET,
      Pieces: null,
      PiecesV2: null,
      IsSnapUp: false,
      UpgradePublic: null,
      CommR: COMM_R,
      UpdateCommR: null,
    });
    expect(svc.tasks.get(sid(1))?.State).toBe("rebuilding");
    expect(await svc.allocate(spec)).toBeNull();
    svc.finished(sid(1));
    expect(svc.tasks.get(sid(1))?.State).toBe("finished");
  });

  test("a deal sector carries its recorded pieces; an imported one only with PiecesAvailable", async () => {
    const { svc, states } = setup();
    states.saveOffline(finalized(2, { Pieces: [DEAL] }));
    states.saveOffline(finalized(3, { Pieces: [DEAL], Imported: true }));
    expect(await svc.request(sid(2), { PiecesAvailable: false })).toBe(true);
    expect((await svc.allocate(spec))?.PiecesV2).toEqual([DEAL]);
    expect(await refusal(svc.request(sid(3), { PiecesAvailable: false }))).toContain("--pieces-available");
    expect(states.get("offline", sid(3))).toBeDefined(); // nothing changed
    expect(await svc.request(sid(3), { PiecesAvailable: true })).toBe(true);
  });

  test("refused with the reason: not proven on chain, unknown, still sealing, aborted, no ticket", async () => {
    const { svc, states } = setup([1, 2, 3, 4, 5]);
    states.saveOffline(finalized(9));
    expect(await refusal(svc.request(sid(9), { PiecesAvailable: false }))).toContain("not a proven sector on chain");
    expect(await refusal(svc.request(sid(1), { PiecesAvailable: false }))).toContain("unknown to this manager");
    states.create(finalized(2, { Finalized: false }));
    expect(await refusal(svc.request(sid(2), { PiecesAvailable: false }))).toContain("still being sealed");
    states.saveOffline(finalized(3, { AbortReason: "operator" }));
    expect(await refusal(svc.request(sid(3), { PiecesAvailable: false }))).toContain("aborted (operator)");
    states.saveOffline(finalized(4, { Ticket: undefined, Pre: undefined }));
    expect(await refusal(svc.request(sid(4), { PiecesAvailable: false }))).toContain("no ticket");
    expect(svc.tasks.list()).toEqual([]);
  });

  test("allocation honours the thread's miners and proof types, oldest first, and drops tasks whose sector stopped waiting", async () => {
    const { svc, states } = setup();
    for (const n of [1, 2, 3]) {
      states.saveOffline(finalized(n));
      await svc.request(sid(n), { PiecesAvailable: false });
    }
    expect(await svc.allocate({ AllowedMiners: [1001], AllowedProofTypes: null })).toBeNull();
    expect(await svc.allocate({ AllowedMiners: null, AllowedProofTypes: [8] })).toBeNull();
    // Sector 1 was finalized meanwhile (e.g. an operator moved it): its task fails instead of being handed out.
    await states.moveOffline(sid(1), (s) => (s.NeedRebuild = false));
    expect((await svc.allocate({ AllowedMiners: [1000], AllowedProofTypes: [5] }))?.Sector.ID).toEqual(sid(2));
    expect(svc.tasks.get(sid(1))).toMatchObject({ State: "failed" });
    svc.failed(sid(2), "worker gave up");
    expect(svc.tasks.get(sid(2))).toMatchObject({ State: "failed", ErrorInfo: "worker gave up" });
    svc.finished(sid(2)); // an ended task stays as it ended
    expect(svc.tasks.get(sid(2))?.State).toBe("failed");
    expect(svc.tasks.list().map((t) => t.Info.Sector.ID.Number)).toEqual([1, 2, 3]);
  });

  test("an upgraded sector carries the update: its CC public info, the sector key and update CommRs, the update's deals", async () => {
    const { svc, states } = setup([1, 2, 3, 4, 5], [1, 2, 3, 4]);
    const upgraded = { Upgraded: true, UpgradePublic: CC_PUBLIC, Pieces: [DEAL] };
    states.saveOffline(finalized(1, upgraded));
    expect(await svc.request(sid(1), { PiecesAvailable: false })).toBe(true);
    expect(states.get("online", sid(1))).toMatchObject({ NeedRebuild: true, Upgraded: true });
    expect(await svc.allocate(spec)).toEqual({
      Sector: { ID: sid(1), ProofType: 5 },
      Ticket: TICKET,
      Pieces: null,
      PiecesV2: [DEAL],
      IsSnapUp: true,
      UpgradePublic: CC_PUBLIC,
      // The re-sealed CC replica is checked against the sector key, the re-encoded update against the chain's CommR.
      CommR: COMM_R,
      UpdateCommR: UPDATE_COMM_R,
    });

    // Refused, nothing queued: no upgrade info, no update deals, a recorded CC CommR that is not the chain's
    // sector key, an upgrade the chain does not hold, an update on chain the state does not know.
    states.saveOffline(finalized(2, { ...upgraded, UpgradePublic: null }));
    expect(await refusal(svc.request(sid(2), { PiecesAvailable: false }))).toContain("lacks the upgrade's public info");
    states.saveOffline(finalized(3, { ...upgraded, Pieces: null }));
    expect(await refusal(svc.request(sid(3), { PiecesAvailable: false }))).toContain("no deal pieces of its update");
    const otherKey = UPDATE_COMM_R;
    states.saveOffline(finalized(4, { ...upgraded, UpgradePublic: { ...CC_PUBLIC, CommR: otherKey } }));
    expect(await refusal(svc.request(sid(4), { PiecesAvailable: false }))).toContain("is not the CC CommR");
    states.saveOffline(finalized(5, upgraded));
    expect(await refusal(svc.request(sid(5), { PiecesAvailable: false }))).toContain("the update never landed");
    const { svc: svc2, states: states2 } = setup([1], [1]);
    states2.saveOffline(finalized(1));
    expect(await refusal(svc2.request(sid(1), { PiecesAvailable: false }))).toContain("records no upgrade");
    expect(svc.tasks.list().map((t) => t.Info.Sector.ID.Number)).toEqual([1]);
  });
});
