import { existsSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { CliError, command } from "../../core/cli/command.ts";
import { unpaddedSize } from "../../core/proofs/index.ts";
import type { RpcClient } from "../../core/rpc/index.ts";
import { DamoclesUnseal, type SectorUnsealInfo, VenusUnseal } from "../../core/sector/api-unseal.ts";
import { pieceCommitment } from "../../core/sector/cid.ts";
import { type SectorID, sectorName } from "../../core/sector/id.ts";
import { managerApiArgs, parseSectorArgs, withManager } from "./client.ts";

/**
 * `util sealer sectors unseal <piece-cid>` (the original's utilSealerSectorsUnsealCmd): queue an unseal
 * task on the manager; a worker thread with plan = "unseal" takes it, unseals the piece from the sealed
 * replica, checks it against the piece CID and delivers it.
 * - the sector: --actor and --sector, else the sector whose state holds the piece (a deal piece, or the
 *   whole data of a sector, whose piece CID is its CommD);
 * - where the piece is: from the sector's state, or --offset/--size (padded bytes, as the original's flags);
 * - --dest queues a delivery and returns; -o FILE (default ./<piece-cid> when no --dest is given) has the
 *   worker write the file (file:// destination: FILE must be reachable from the worker's machine, e.g. on
 *   the same host or a shared mount) and waits until the task has finished or failed.
 */

function padded(what: string, text: string | undefined, pow2: boolean): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  const ok = /^\d+$/.test(text) && Number.isSafeInteger(n) && (pow2 ? n >= 128 && (n & (n - 1)) === 0 : n % 128 === 0);
  if (!ok)
    throw new CliError(
      `--${what} ${text}: expected ${pow2 ? "a padded piece size (a power of two, at least 128)" : "a padded byte offset (a multiple of 128)"}`,
      2,
    );
  return n;
}

async function findSector(c: RpcClient, piece: string): Promise<SectorID> {
  for (const where of ["offline", "online"] as const) {
    const found = await c.call(VenusUnseal.FindSectorWithPiece, where, { "/": piece });
    if (found) return found.ID;
  }
  throw new CliError(
    `no sector found with piece ${piece}: no sector state of the manager holds it (give --actor and --sector)`,
  );
}

function outputPath(text: string, piece: string): string {
  const path = resolve(text);
  return existsSync(path) && statSync(path).isDirectory() ? join(path, piece) : path;
}

export async function waitDone(
  c: RpcClient,
  sid: SectorID,
  piece: string,
  timeoutMs: number | undefined,
): Promise<SectorUnsealInfo> {
  const end = timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    const t = await c.call(DamoclesUnseal.UnsealTask, sid, { "/": piece });
    if (!t) throw new CliError(`the unseal task of ${piece} in ${sectorName(sid)} disappeared from the manager`);
    if (t.State !== last) {
      last = t.State;
      if (t.State === "set_up") process.stdout.write(`waiting for a worker thread with plan "unseal"…\n`);
      else if (t.State !== "finished" && t.State !== "failed") process.stdout.write(`task is ${t.State}\n`);
    }
    if (t.State === "finished" || t.State === "failed") return t;
    if (Date.now() > end)
      throw new CliError(`gave up waiting after ${timeoutMs! / 1000}s: the task is still ${t.State}`);
    await Bun.sleep(1000);
  }
}

export const unsealCommand = command({
  meta: { name: "unseal", description: 'Unseal a piece from a sealed sector and deliver it (plan = "unseal" workers)' },
  args: {
    ...managerApiArgs,
    piece: { type: "positional", description: "piece CID (for a sector without deals: its CommD CID)", required: true },
    actor: { type: "string", alias: ["miner"], description: "miner actor id of the sector (with --sector)" },
    sector: { type: "string", description: "sector number (with --actor)" },
    offset: { type: "string", description: "padded offset of the piece in the sector (with --size; default 0)" },
    size: {
      type: "string",
      alias: ["piece-size"],
      description: "padded size of the piece (default: from the sector state)",
    },
    dest: {
      type: "string",
      description: 'deliver to "file:///path", "http(s)://…" or "store://<persist store>/<path>" and return',
    },
    output: {
      type: "string",
      alias: ["o"],
      description: "have the worker write the piece to this file (or into this directory) and wait for it",
    },
    timeout: { type: "string", description: "with -o: give up waiting after this many seconds" },
  },
  examples: [
    "damocles util sealer sectors unseal baga6ea4sea… -o piece.bin",
    "damocles util sealer sectors unseal baga6ea4sea… --actor 1000 --sector 2 --dest http://10.0.0.5:8080/pieces/p1",
    "damocles util sealer sectors unseal baga6ea4sea… --offset 0 --size 1024 --dest store://persist-1/pieces/p1",
  ],
  async run({ args }) {
    const piece = args.piece;
    try {
      pieceCommitment(piece);
    } catch (err) {
      throw new CliError(`invalid piece cid: ${(err as Error).message}`, 2);
    }
    if ((args.actor === undefined) !== (args.sector === undefined))
      throw new CliError('flag "--actor" and "--sector" must be set together', 2);
    const size = padded("size", args.size, true);
    const offset = padded("offset", args.offset, false);
    if (offset !== undefined && size === undefined) throw new CliError("--offset needs --size", 2);
    const timeout = args.timeout === undefined ? undefined : Number(args.timeout) * 1000;
    if (timeout !== undefined && !(timeout > 0)) throw new CliError(`--timeout ${args.timeout}: expected seconds`, 2);
    const output = args.output ?? (args.dest === undefined ? piece : undefined);
    const file = output === undefined ? undefined : outputPath(output, piece);
    const dests = [args.dest, file && pathToFileURL(file).toString()].filter((d): d is string => d !== undefined);

    await withManager(args, async (c) => {
      const sid = args.actor === undefined ? await findSector(c, piece) : parseSectorArgs(args.actor, args.sector);
      let state = "";
      for (const dest of dests)
        state = await c.call(
          VenusUnseal.UnsealPiece,
          sid,
          { "/": piece },
          unpaddedSize(offset ?? 0),
          unpaddedSize(size ?? 0),
          dest,
        );
      const t = (await c.call(DamoclesUnseal.UnsealTask, sid, { "/": piece }))!;
      process.stdout.write(
        `unseal task queued (${state}): piece ${piece} in ${sectorName(sid)}, offset ${(t.Offset / 127) * 128}, size ${(t.Size / 127) * 128} (padded), dest ${dests.join(", ")}\n`,
      );
      if (!file) return;
      const done = await waitDone(c, sid, piece, timeout);
      if (done.State === "failed")
        throw new CliError(`unseal of ${piece} from ${sectorName(sid)} failed: ${done.ErrorInfo}`);
      if (!existsSync(file))
        throw new CliError(`the task finished, but ${file} is not on this machine: the worker wrote it on its own`);
      process.stdout.write(`${piece}: ${statSync(file).size} bytes written to ${file}\n`);
    });
  },
});
