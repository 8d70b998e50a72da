import { rmSync, statSync, truncateSync } from "node:fs";
import { rename } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { bearer } from "../../core/auth/index.ts";
import { CliError, command } from "../../core/cli/command.ts";
import { generatePieceCommitment, unpaddedSize } from "../../core/proofs/index.ts";
import type { RpcClient } from "../../core/rpc/index.ts";
import { Market, type PieceLocation } from "../../core/sector/api-market.ts";
import { VenusUnseal } from "../../core/sector/api-unseal.ts";
import { pieceCid } from "../../core/sector/cid.ts";
import { sectorName } from "../../core/sector/id.ts";
import { SEAL_PROOFS } from "../../core/sector/proof.ts";
import { managerAddress, managerApiArgs, managerToken, withManager } from "../sealer/client.ts";
import { waitDone } from "../sealer/unseal.ts";

/**
 * `util market retrieve <piece-cid> OUT`: a deal's data back, byte for byte, whether or not the market still
 * keeps an unsealed copy. With a copy in a piece store it is read through the manager's /piecestore/ (with
 * the token of the manager home or --token); without one it is unsealed from the sealed sector by a worker
 * thread with plan = "unseal" (OUT must then be reachable from that worker, e.g. on the same host). Either
 * way the bytes are checked against the piece CID before OUT appears, and OUT holds exactly the payload.
 */

async function fromPieceStore(
  addr: string,
  args: { home?: string; token?: string },
  loc: PieceLocation,
  tmp: string,
): Promise<void> {
  const res = await fetch(`http://${addr}/piecestore/${loc.PieceCID["/"]}`, { headers: bearer(managerToken(args)) });
  if (!res.ok) throw new CliError(`piece store answered HTTP ${res.status} for ${loc.PieceCID["/"]}`);
  await Bun.write(tmp, res);
}

async function fromSector(c: RpcClient, loc: PieceLocation, tmp: string, timeoutMs: number | undefined): Promise<void> {
  const sid = loc.Sector;
  if (!sid || loc.Offset === null) {
    throw new CliError(
      `${loc.PieceCID["/"]} has no stored copy and is not in a sealed sector yet (deal state: ${loc.Deals[0]?.State ?? "unknown"})`,
    );
  }
  const piece = loc.PieceCID["/"];
  const dest = pathToFileURL(tmp).toString();
  await c.call(
    VenusUnseal.UnsealPiece,
    sid,
    { "/": piece },
    unpaddedSize(loc.Offset),
    unpaddedSize(loc.PieceSize),
    dest,
  );
  process.stdout.write(`unsealing ${piece} from ${sectorName(sid)}\n`);
  const done = await waitDone(c, sid, piece, timeoutMs);
  if (done.State === "failed")
    throw new CliError(`unseal of ${piece} from ${sectorName(sid)} failed: ${done.ErrorInfo}`);
}

/** The CommP of the first `PayloadSize` bytes zero-filled to the piece: what the deal's piece CID commits to. */
async function checkPiece(loc: PieceLocation, path: string): Promise<void> {
  const proof = SEAL_PROOFS.find((p) => p.sectorSize >= loc.PieceSize && p.variant === "V1_1");
  if (!proof) throw new CliError(`no seal proof covers a ${loc.PieceSize}-byte piece`);
  const info = await generatePieceCommitment({
    registeredProof: proof.id,
    path,
    pieceSize: unpaddedSize(loc.PieceSize),
  });
  const got = pieceCid(info.commitment);
  if (got !== loc.PieceCID["/"])
    throw new CliError(`retrieved bytes have piece CID ${got}, not ${loc.PieceCID["/"]}: nothing written`);
}

export const retrieveCommand = command({
  meta: {
    name: "retrieve",
    description: "Get a deal's data back into a file: from a stored copy, else unsealed from its sector",
  },
  args: {
    ...managerApiArgs,
    piece: { type: "positional", description: "piece CID of the deal", required: true },
    out: { type: "positional", description: "the file to write", required: true },
    timeout: { type: "string", description: "give up waiting for an unseal after this many seconds" },
  },
  examples: [
    "damocles util market retrieve baga6ea4sea… ./data.bin",
    "damocles util market retrieve baga6ea4sea… /srv/restore/part-1.car --timeout 3600",
  ],
  async run({ args }) {
    const timeoutMs = args.timeout === undefined ? undefined : Number(args.timeout) * 1000;
    if (timeoutMs !== undefined && !(timeoutMs > 0)) {
      throw new CliError(`--timeout ${args.timeout}: expected seconds`, 2);
    }
    const out = resolve(args.out);
    // Written next to OUT, checked, then renamed: OUT is the whole checked payload or nothing.
    const tmp = resolve(dirname(out), `.${Date.now()}-${process.pid}.retrieve`);
    try {
      await withManager(
        args,
        async (c) => {
          const loc = await c.call(Market.PieceLocate, args.piece);
          if (!loc) throw new CliError(`no deal of this market has piece ${args.piece}`);
          if (loc.PieceStore) await fromPieceStore(managerAddress(args), args, loc, tmp);
          else await fromSector(c, loc, tmp, timeoutMs);
          await checkPiece(loc, tmp);
          // A stored copy is the payload itself; an unsealed piece is the payload then zero fill.
          if (statSync(tmp).size > loc.PayloadSize) truncateSync(tmp, loc.PayloadSize);
          await rename(tmp, out);
          process.stdout.write(
            `${loc.PieceCID["/"]}: ${loc.PayloadSize} bytes written to ${out} (${loc.PieceStore ? `from piece store ${loc.PieceStore}` : `unsealed from ${sectorName(loc.Sector!)}`})\n`,
          );
        },
        { timeoutMs: 60_000 },
      );
    } finally {
      rmSync(tmp, { force: true });
    }
  },
});
