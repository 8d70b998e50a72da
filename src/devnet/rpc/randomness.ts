import { createHash } from "node:crypto";
import { decode as decodeDagCbor } from "@ipld/dag-cbor";
import { ADDRESS_PROTOCOLS, addressFromBytes, addressId } from "../../core/chain/address.ts";
import type { DevnetChain } from "../chain.ts";
import { DEVNET_ADDRESS_NETWORK, refusal } from "./shapes.ts";

/**
 * StateGetRandomnessFromTickets / FromBeacon on the devnet's beacon. The personalization is
 * go-state-types crypto.DomainSeparationTag (crypto/randomness.go: 1 + iota in this order); each tag the
 * devnet draws maps to its RandomnessDomain, and the entropy is what Lotus miners pass: the CBOR of the
 * miner's address (a byte string of the address bytes, as go-address MarshalCBOR writes it).
 */
export const DomainSeparationTag = {
  TicketProduction: 1,
  ElectionProofProduction: 2,
  WinningPoStChallengeSeed: 3,
  WindowedPoStChallengeSeed: 4,
  SealRandomness: 5,
  InteractiveSealChallengeSeed: 6,
  WindowedPoStDeadlineAssignment: 7,
  MarketDealCronSeed: 8,
  PoStChainCommit: 9,
} as const;

type Source = "tickets" | "beacon";
type Draw = (devnet: DevnetChain, actor: number, epoch: number) => Promise<Uint8Array>;

/** The tags the devnet serves, where Lotus draws each from, and the devnet's draw for it. */
const SERVED: Record<number, { name: string; source: Source; draw?: Draw }> = {
  [DomainSeparationTag.SealRandomness]: {
    name: "SealRandomness",
    source: "tickets",
    draw: (d, a, e) => d.ticketRandomness(a, e),
  },
  [DomainSeparationTag.InteractiveSealChallengeSeed]: {
    name: "InteractiveSealChallengeSeed",
    source: "beacon",
    draw: (d, a, e) => d.interactiveSeedRandomness(a, e),
  },
  [DomainSeparationTag.WindowedPoStChallengeSeed]: {
    name: "WindowedPoStChallengeSeed",
    source: "beacon",
    draw: (d, a, e) => d.windowPoStRandomness(a, e),
  },
  [DomainSeparationTag.WinningPoStChallengeSeed]: {
    name: "WinningPoStChallengeSeed",
    source: "beacon",
    draw: (d, a, e) => d.winningPoStRandomness(a, e),
  },
  /** Drawn without entropy; see postChainCommitRandomness. */
  [DomainSeparationTag.PoStChainCommit]: { name: "PoStChainCommit", source: "tickets" },
};

const TAG_NAMES = new Map<number, string>(Object.entries(DomainSeparationTag).map(([name, tag]) => [tag, name]));

/**
 * The ChainCommitRand of a WindowPoSt committing to `epoch` (builtin miner: tickets, PoStChainCommit, no
 * entropy): sha256 over the tag and the devnet's ticket draw for actor 0 (the system actor, never a miner).
 * Exported so the devnet's SubmitWindowedPoSt check compares the same value.
 */
export async function postChainCommitRandomness(devnet: DevnetChain, epoch: number): Promise<Uint8Array> {
  const ticket = await devnet.ticketRandomness(0, epoch);
  return new Uint8Array(createHash("sha256").update("damocles-devnet/PoStChainCommit\0").update(ticket).digest());
}

/** Answers one randomness call: base64 of 32 bytes, or an RPC error naming the tag, epoch or entropy. */
export async function drawRandomness(
  devnet: DevnetChain,
  source: Source,
  tag: number,
  epoch: number,
  entropy: string | null,
): Promise<string> {
  const served = SERVED[tag];
  if (!served) {
    const name = TAG_NAMES.get(tag);
    throw refusal(
      "malformed",
      name
        ? `personalization ${tag} (${name}) is not drawn on this devnet; it serves ${servedList()}`
        : `personalization ${tag} is not a DomainSeparationTag (go-state-types crypto: 1..9)`,
    );
  }
  if (served.source !== source) {
    const other = source === "tickets" ? "StateGetRandomnessFromBeacon" : "StateGetRandomnessFromTickets";
    throw refusal(
      "malformed",
      `personalization ${tag} (${served.name}) is drawn from the ${served.source}: call ${other}`,
    );
  }
  if (epoch > devnet.headEpoch())
    throw refusal("future-epoch", `randomness for epoch ${epoch} is not available yet (head is ${devnet.headEpoch()})`);
  if (epoch < 0) throw refusal("malformed", `no randomness before genesis (randEpoch ${epoch})`);
  const bytes = served.draw
    ? await served.draw(devnet, minerOfEntropy(served.name, entropy), epoch)
    : await drawChainCommit(devnet, entropy, epoch);
  return Buffer.from(bytes).toString("base64");
}

async function drawChainCommit(devnet: DevnetChain, entropy: string | null, epoch: number): Promise<Uint8Array> {
  if (entropy !== null && entropy !== "")
    throw refusal("malformed", "PoStChainCommit randomness is drawn without entropy (send null)");
  return postChainCommitRandomness(devnet, epoch);
}

/** The miner a draw is for: the entropy must be the CBOR byte string of its ID address. */
function minerOfEntropy(tag: string, entropy: string | null): number {
  const fix = `the entropy of ${tag} is the CBOR of the miner's ID address (a byte string, as go-address MarshalCBOR writes it)`;
  if (entropy === null || entropy === "") throw refusal("malformed", `no entropy: ${fix}`);
  let decoded: unknown;
  try {
    decoded = decodeDagCbor(Buffer.from(entropy, "base64"));
  } catch (err) {
    throw refusal("malformed", `entropy is not CBOR (${(err as Error).message}): ${fix}`);
  }
  if (!(decoded instanceof Uint8Array)) throw refusal("malformed", `entropy is CBOR but not a byte string: ${fix}`);
  try {
    const address = addressFromBytes(decoded, DEVNET_ADDRESS_NETWORK);
    if (address.protocol !== ADDRESS_PROTOCOLS.id) throw new Error(`${address.string} is not an ID address`);
    return Number(addressId(address));
  } catch (err) {
    throw refusal("malformed", `entropy: ${(err as Error).message}; ${fix}`);
  }
}

function servedList(): string {
  return Object.entries(SERVED)
    .map(([tag, s]) => `${tag} (${s.name}, from the ${s.source})`)
    .join(", ");
}
