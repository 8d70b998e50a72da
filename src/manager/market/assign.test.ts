import { describe, expect, test } from "bun:test";
import type { MarketDeal } from "../../core/sector/api-market.ts";
import { pieceCid, zeroCommD } from "../../core/sector/index.ts";
import { packDeals, toDealInfos } from "./assign.ts";

function deal(id: number, size: number): MarketDeal {
  return {
    DealID: id,
    PieceCID: { "/": pieceCid(new Uint8Array(32).fill(id)) },
    PieceSize: size,
    PayloadSize: size - size / 128,
    Client: "f0100",
    Provider: 1000,
    StartEpoch: 100,
    EndEpoch: 200,
    Verified: false,
    Label: "",
    State: "published",
    Sector: null,
    Offset: null,
    PieceStore: "pieces",
    PublishedAt: 0,
  };
}

const layout = (pieces: ReturnType<typeof packDeals>) =>
  pieces?.map((p) => `${p.deal ? `d${p.deal.DealID}` : "0"}:${p.size}@${p.offset}`);

describe("packing deals into a sector", () => {
  test("each deal sits at an offset aligned to its size; zero fillers close the gaps and the rest", () => {
    expect(layout(packDeals([deal(1, 128), deal(2, 512), deal(3, 1024)], 2048))).toEqual([
      "d1:128@0",
      "0:128@128",
      "0:256@256",
      "d2:512@512",
      "d3:1024@1024",
    ]);
    expect(layout(packDeals([deal(1, 256)], 2048))).toEqual(["d1:256@0", "0:256@256", "0:512@512", "0:1024@1024"]);
    expect(layout(packDeals([deal(1, 2048)], 2048))).toEqual(["d1:2048@0"]);
  });

  test("MaxDeals caps the deals; what does not fit the sector is left for another", () => {
    expect(layout(packDeals([deal(1, 128), deal(2, 512), deal(3, 1024)], 2048, { maxDeals: 2 }))).toEqual([
      "d1:128@0",
      "0:128@128",
      "0:256@256",
      "d2:512@512",
      "0:1024@1024",
    ]);
    expect(layout(packDeals([deal(1, 1024), deal(2, 1024), deal(3, 1024)], 2048))).toEqual([
      "d1:1024@0",
      "d2:1024@1024",
    ]);
    expect(packDeals([deal(1, 4096)], 2048)).toBeUndefined();
    expect(packDeals([], 2048)).toBeUndefined();
  });

  test("MinUsedSpace: too little deal data means no deals at all", () => {
    expect(packDeals([deal(1, 512)], 2048, { minUsedSpace: 1024 })).toBeUndefined();
    expect(layout(packDeals([deal(1, 512), deal(2, 512)], 2048, { minUsedSpace: 1024 }))).toEqual([
      "d1:512@0",
      "d2:512@512",
      "0:1024@1024",
    ]);
  });

  test("as AcquireDeals answers: deal pieces with their proposal, fillers as deal 0 with the zero piece CID", () => {
    const infos = toDealInfos(packDeals([deal(7, 512)], 2048)!);
    expect(infos[0]).toMatchObject({
      ID: 7,
      PayloadSize: 508,
      Piece: { Size: 512, Offset: 0, Cid: deal(7, 512).PieceCID },
      Proposal: { PieceSize: 512, Provider: "f01000", Client: "f0100", StartEpoch: 100, EndEpoch: 200 },
      IsCompatible: false,
    });
    expect(infos.slice(1)).toEqual([
      {
        ID: 0,
        PayloadSize: 0,
        Piece: { Size: 512, Offset: 512, Cid: { "/": pieceCid(zeroCommD(512)) } },
        Proposal: null,
        IsCompatible: false,
      },
      {
        ID: 0,
        PayloadSize: 0,
        Piece: { Size: 1024, Offset: 1024, Cid: { "/": pieceCid(zeroCommD(1024)) } },
        Proposal: null,
        IsCompatible: false,
      },
    ]);
  });
});
