/**
 * Destinations of an unsealed piece, as the original's manager accepts them (checkDestURL in
 * damocles-manager/modules/impl/sectors/unseal.go) and its worker delivers to them (planner/unseal.rs):
 * - `http://…`, `https://…`: an HTTP PUT of the piece;
 * - `file:///path`: a file on the worker's machine (the host part must be empty);
 * - `store://name/path`: a file inside the worker's attached persist store `name`; with no name
 *   (`store:///<piece cid>`) the manager's piece store, reached over HTTP;
 * - `market://store/<piece cid>?host=…&scheme=…&token=…`: a droplet piece store (the manager adds the query).
 */
export type UnsealDest =
  | { kind: "http"; url: string }
  | { kind: "file"; path: string }
  | { kind: "store"; store: string | undefined; path: string }
  | { kind: "market"; store: string; path: string; host: string; scheme: string; token: string };

export class UnsealDestError extends Error {
  override name = "UnsealDestError";
}

const FORMS = '"file:///path", "http(s)://…", "store://name/path" or "market://store/piece_cid"';

/** Parses and checks one destination; the error names the destination and what is wrong with it. */
export function parseUnsealDest(dest: string): UnsealDest {
  let url: URL;
  try {
    url = new URL(dest);
  } catch {
    throw new UnsealDestError(`invalid unseal destination ${JSON.stringify(dest)}: not a URL; use ${FORMS}`);
  }
  const path = decodeURIComponent(url.pathname);
  const needPath = (what: string) => {
    if (path === "" || path === "/")
      throw new UnsealDestError(`invalid unseal destination ${dest}: ${what} has no path`);
  };
  switch (url.protocol) {
    case "http:":
    case "https:":
      return { kind: "http", url: url.toString() };
    case "file:":
      if (url.host !== "")
        throw new UnsealDestError(
          `invalid unseal destination ${dest}: a file URL names no host (file:///absolute/path), got host "${url.host}"`,
        );
      needPath("the file URL");
      return { kind: "file", path };
    case "store:":
      needPath("the store URL");
      return { kind: "store", store: url.host === "" ? undefined : url.host, path: path.replace(/^\/+/, "") };
    case "market:": {
      needPath("the market URL");
      const q = url.searchParams;
      const [host, scheme, token] = [q.get("host"), q.get("scheme"), q.get("token")];
      if (!host || !scheme || token === null)
        throw new UnsealDestError(`invalid unseal destination ${dest}: a market URL needs host, scheme and token`);
      return { kind: "market", store: url.host, path: path.replace(/^\/+/, ""), host, scheme, token };
    }
  }
  throw new UnsealDestError(
    `invalid unseal destination ${dest}: unsupported scheme ${url.protocol.replace(/:$/, "")}; use ${FORMS}`,
  );
}
