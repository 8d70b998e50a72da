import { copyFile, mkdir, rename, rm } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import type { AttachedStore } from "../../core/config/index.ts";
import { Failure, permanent, temporary } from "../../core/errors/index.ts";
import { parseUnsealDest, type UnsealDest, UnsealDestError } from "../../core/sector/unseal-dest.ts";
import type { StageCall } from "../stages.ts";

/**
 * Delivers an unsealed (and already verified) piece file to one destination, the ways the original worker
 * does (planner/unseal.rs upload_piece):
 * - file:///path: a copy under a temporary name in the target directory, then a rename, so the path
 *   holds either nothing or the whole piece;
 * - http(s)://url: an HTTP PUT of the file, with `Authorization: Bearer <piece_token>` when the worker has
 *   a piece token (the original sends none to plain URLs; a receiver that does not check ignores it);
 * - store://name/path: the transfer stage copies it into the attached persist store `name`;
 *   store:///<piece cid>: a PUT to the manager's piece store (`/piecestore/<cid>`), with the worker's token;
 * - market://store/<cid>?host&scheme&token: a PUT to the droplet's `/resource?resource-id=<cid>&store=<store>`.
 * Failure levels: an unreachable receiver or a 5xx/408/429 answer is temporary (retried); anything about the
 * destination itself (bad URL, refused with another status, unknown store, unwritable path) is permanent.
 */

export interface DeliveryContext {
  attached: readonly AttachedStore[];
  /** Bearer of http:// deliveries: only `piece_token`, never the manager token, since the task names the receiver. */
  pieceToken: string | undefined;
  /** Bearer of the manager's own piece store. */
  managerToken: string | undefined;
  /** The manager's piece store (`pieceStoreUrl`: <manager origin>/piecestore), for store:/// destinations. */
  pieceStoreUrl: string;
  /** Runs the transfer stage (store:// destinations). */
  transfer(task: unknown): Promise<unknown>;
  call: Pick<StageCall, "signal" | "log">;
}

export async function deliverPiece(dest: string, file: string, c: DeliveryContext): Promise<void> {
  let target: UnsealDest;
  try {
    target = parseUnsealDest(dest);
  } catch (err) {
    throw permanent(err instanceof UnsealDestError ? err : new Error(String(err)));
  }
  switch (target.kind) {
    case "file":
      return toFile(target.path, file);
    case "http":
      return put(target.url, file, c.pieceToken, c.call.signal);
    case "market": {
      const url = new URL(`${target.scheme}://${target.host}/resource`);
      url.searchParams.set("resource-id", target.path);
      url.searchParams.set("store", target.store);
      return put(url.toString(), file, target.token, c.call.signal, { only200: true });
    }
    case "store":
      if (target.store === undefined)
        return put(`${c.pieceStoreUrl}/${target.path}`, file, c.managerToken, c.call.signal);
      return toStore(target.store, target.path, file, c);
  }
}

async function toFile(path: string, file: string): Promise<void> {
  const tmp = join(dirname(path), `.${process.pid}-${Date.now()}.unseal-tmp`);
  try {
    await mkdir(dirname(path), { recursive: true });
    await copyFile(file, tmp);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => {});
    throw permanent(err, `write ${path}`);
  }
}

async function toStore(name: string, path: string, file: string, c: DeliveryContext): Promise<void> {
  const store = c.attached.find((a) => a.name === name);
  if (!store) {
    const have = c.attached.map((a) => a.name).join(", ") || "none";
    throw permanent(
      new Error(`store://${name}/${path}: "${name}" is not among this worker's [[attached]] stores (it has: ${have})`),
    );
  }
  if (store.readonly) throw permanent(new Error(`store://${name}/${path}: store "${name}" is attached read-only`));
  const target = resolve(store.location, path);
  if (relative(store.location, target).startsWith("..") || target === resolve(store.location))
    throw permanent(new Error(`store://${name}/${path}: the path leaves store "${name}"`));
  // Absolute uris with the store named: what the original sends, and what our transfer plugin accepts too.
  await c.transfer({
    stores: { [name]: { name, meta: { location: store.location } } },
    routes: [{ src: { store_name: null, uri: file }, dest: { store_name: name, uri: target } }],
  });
}

const RETRYABLE = new Set([408, 429]);

async function put(
  url: string,
  file: string,
  token: string | undefined,
  signal: AbortSignal,
  opts: { only200?: boolean } = {},
): Promise<void> {
  const headers: Record<string, string> = { "content-type": "application/octet-stream" };
  if (token) headers.authorization = `Bearer ${token}`;
  const shown = redact(url);
  let res: Response;
  try {
    res = await fetch(url, { method: "PUT", body: Bun.file(file), headers, signal });
  } catch (err) {
    if (err instanceof Failure) throw err;
    throw temporary(err, `PUT ${shown}`);
  }
  if (opts.only200 ? res.status === 200 : res.ok) {
    await res.body?.cancel().catch(() => {});
    return;
  }
  const body = (await res.text().catch(() => "")).trim().slice(0, 200);
  const why = new Error(`PUT ${shown} answered HTTP ${res.status}${body ? `: ${body}` : ""}`);
  throw res.status >= 500 || RETRYABLE.has(res.status) ? temporary(why) : permanent(why);
}

/** A URL for logs: no token in its query. */
function redact(url: string): string {
  const u = new URL(url);
  if (u.searchParams.has("token")) u.searchParams.set("token", "…");
  return u.toString();
}
