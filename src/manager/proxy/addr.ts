import { parseListenAddr, parseRpcAddr } from "../../core/config/index.ts";

/**
 * The --proxy value: the source manager as `ip:port` (the original's form; `:port` means this machine),
 * or a URL / multiaddr as worker configs take them. Normalised to its JSON-RPC endpoint URL; undefined
 * when it is none of those.
 */
export function parseProxyAddr(text: string): string | undefined {
  const s = text.trim();
  if (s === "") return undefined;
  if (s.startsWith("/") || /^[a-z]+:\/\//i.test(s)) return parseRpcAddr(s);
  const hp = parseListenAddr(s);
  if (!hp || hp.port === 0) return undefined;
  if (!/^[A-Za-z0-9.:-]+$/.test(hp.host)) return undefined;
  const host = hp.host === "0.0.0.0" || hp.host === "::" ? "127.0.0.1" : hp.host;
  return `http://${host.includes(":") ? `[${host}]` : host}:${hp.port}/rpc/v0`;
}

export const PROXY_ADDR_FORMS =
  'ip:port like "127.0.0.1:1789", a URL like "http://10.0.0.5:1789" or a multiaddr like "/ip4/10.0.0.5/tcp/1789"';
