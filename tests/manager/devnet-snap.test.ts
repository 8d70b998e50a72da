import { afterEach, describe, expect, test } from "bun:test";
import type { ChainMessage, ReplicaUpdateParams } from "../../src/core/sector/chain.ts";
import { deadlineIsMutable } from "../../src/core/sector/deadlines.ts";
import { b64 } from "../../src/core/sector/index.ts";
import {
  ACTOR,
  bytes32,
  fakeCommD,
  type Harness,
  SETTINGS,
  snapHarness,
  VALID_UPDATE,
} from "../../src/manager/snap/testing.ts";

/**
 * The devnet's ProveReplicaUpdates rules with fake proofs (valid: "valid-update"): every refusal carries
 * its code, and an accepted update replaces the CommR and activates the deals. The real proof is in
 * devnet-snap-real.test.ts.
 */

const open: Harness[] = [];
afterEach(() => {
  for (const h of open.splice(0)) h.close();
});

const shape = {
  wpostChallengeWindow: SETTINGS.WPoStChallengeWindow,
  wpostPeriodDeadlines: SETTINGS.WPoStPeriodDeadlines,
};

async function setup(prove = true) {
  const h = await snapHarness({ prove });
  open.push(h);
  const deal = await h.publishDeal("p", 2048);
  let nonce = 0;
  const push = async (updates: Partial<ReplicaUpdateParams>[]) => {
    const full: ReplicaUpdateParams[] = [];
    for (const u of updates) {
      const number = u.number ?? 1;
      const info = await h.chain.sectorInfo(ACTOR, number);
      full.push({
        number,
        deadline: info?.deadline ?? 0,
        partition: info?.partition ?? 0,
        newCommR: bytes32(`new-${number}`),
        dealIds: [deal.id],
        updateProof: 0,
        proof: VALID_UPDATE,
        ...u,
      });
    }
    const msg: ChainMessage = { from: ACTOR, nonce: ++nonce, method: "ProveReplicaUpdates", updates: full };
    const cid = await h.chain.pushMessage(msg);
    await h.advance(1);
    return (await h.chain.messageLookup(cid))!;
  };
  const mutable = async (number: number) =>
    deadlineIsMutable(
      await h.chain.provingDeadline(ACTOR),
      (await h.chain.sectorInfo(ACTOR, number))!.deadline,
      shape,
      SETTINGS.MessagePackDelay,
    );
  const untilMutable = async (number: number) => {
    while (!(await mutable(number))) await h.advance(1);
  };
  const untilFrozen = async (number: number) => {
    while (await mutable(number)) await h.advance(1);
  };
  return { h, deal, push, untilMutable, untilFrozen };
}

describe("devnet ProveReplicaUpdates", () => {
  test("refusals carry their codes; a valid update replaces the CommR and activates the deals", async () => {
    const { h, deal, push, untilMutable, untilFrozen } = await setup();
    await untilFrozen(1);
    expect((await push([{}])).code).toBe("immutable-deadline");
    await untilMutable(1);
    const codes = async (u: Partial<ReplicaUpdateParams>) => (await push([u])).results?.[0]?.code;
    expect(await codes({ number: 99 })).toBe("unknown-sector");
    expect(await codes({ updateProof: 3 })).toBe("wrong-proof-type");
    expect(await codes({ partition: 5 })).toBe("unknown-partition");
    expect(await codes({ dealIds: [] })).toBe("malformed");
    expect(await codes({ dealIds: [4242] })).toBe("deal-invalid");
    expect(await codes({ proof: b64(new TextEncoder().encode("forged")) })).toBe("invalid-proof");
    await untilMutable(1);
    // Two updates of one sector in one message: the second is a duplicate.
    const both = await push([{}, {}]);
    expect(both.status).toBe("packed");
    expect(both.results).toEqual([
      { number: 1, ok: true },
      { number: 1, ok: false, code: "duplicate", error: "sector 1 appears twice" },
    ]);
    const sector = (await h.chain.sectorInfo(ACTOR, 1))!;
    expect(sector).toMatchObject({ commR: bytes32("new-1"), sectorKeyCommR: bytes32("cc-1"), dealIds: [deal.id] });
    expect((await h.chain.marketDeal(deal.id))?.state).toBe("active");
    await untilMutable(1);
    expect(await codes({})).toBe("already-updated");
    // Its deal is active now: it cannot go into another sector.
    await untilMutable(2);
    expect(await codes({ number: 2 })).toBe("deal-in-use");
  });

  test("a faulty sector cannot be updated; nor can one that holds deals", async () => {
    const { h, deal, push, untilMutable } = await setup(false);
    // A sector sealed with the deal (PreCommit + ProveCommit): it holds deals.
    const head = await h.head();
    const commD = await fakeCommD.computeCommD(5, [{ commP: new Uint8Array(bytes32("piece-p")), paddedSize: 2048 }]);
    await h.chain.pushMessage({
      from: ACTOR,
      nonce: 900,
      method: "PreCommitSectorBatch2",
      sectors: [
        {
          number: 50,
          sealProof: 5,
          commR: bytes32("cc-50"),
          commD: [...commD],
          sealRandEpoch: head - 1,
          dealIds: [deal.id],
        },
      ],
    });
    await h.advance(SETTINGS.PreCommitChallengeDelay + 3);
    await h.chain.pushMessage({
      from: ACTOR,
      nonce: 901,
      method: "ProveCommitSectors3",
      sectors: [{ number: 50, proof: b64(new TextEncoder().encode("any")) }],
    });
    await h.advance(2);
    expect((await h.chain.sectorInfo(ACTOR, 50))?.dealIds).toEqual([deal.id]);
    await untilMutable(50);
    expect((await push([{ number: 50 }])).results?.[0]?.code).toBe("sector-has-deals");

    // No WindowPoSt for a whole period: the pre-sealed sectors are detected faulty.
    await h.advance(SETTINGS.WPoStPeriodDeadlines * SETTINGS.WPoStChallengeWindow + 1);
    expect((await h.chain.faults(ACTOR)).some((f) => f.number === 1)).toBe(true);
    await untilMutable(1);
    expect((await push([{}])).results?.[0]?.code).toBe("sector-faulty");
  });
});
