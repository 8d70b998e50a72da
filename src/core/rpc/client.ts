import * as v from "valibot";
import { RpcCallError, RpcTransportError } from "./errors.ts";
import type { CallArgs, MethodDef, ParamList } from "./method.ts";
import { RPC_PATH, type RpcResponse } from "./server.ts";

/**
 * JSON-RPC 2.0 client over HTTP POST or websocket. Addresses: "host:port", ":port", a URL
 * (http/https/ws/wss, path defaults to /rpc/v0) or a multiaddr "/ip4/127.0.0.1/tcp/1789[/http]".
 * An address without a path gets `defaultPath` (damocles' /rpc/v0 unless the caller names another, e.g.
 * a Lotus node's /rpc/v1).
 */

export interface Endpoint {
  http: string;
  ws: string;
}

export function resolveEndpoint(addr: string, defaultPath: string = RPC_PATH): Endpoint {
  const s = addr.trim();
  let base: URL;
  if (s.startsWith("/")) {
    const [proto, host, tcp, port, scheme] = s.split("/").slice(1);
    if (
      !host ||
      tcp !== "tcp" ||
      !port ||
      !/^\d+$/.test(port) ||
      !["ip4", "ip6", "dns", "dns4", "dns6"].includes(proto ?? "")
    ) {
      throw new RpcTransportError(`cannot read RPC address ${JSON.stringify(addr)}: expected /ip4/<host>/tcp/<port>`);
    }
    const h = proto === "ip6" ? `[${host}]` : host;
    base = new URL(`${scheme === "https" || scheme === "wss" ? "https" : "http"}://${h}:${port}${defaultPath}`);
  } else if (/^[a-z]+:\/\//i.test(s)) {
    base = new URL(s);
    if (base.pathname === "/" || base.pathname === "") base.pathname = defaultPath;
  } else {
    const m = /^(.*):(\d+)$/.exec(s);
    if (!m)
      throw new RpcTransportError(
        `cannot read RPC address ${JSON.stringify(addr)}: expected host:port, a URL or a multiaddr`,
      );
    const host = m[1] === "" || m[1] === "0.0.0.0" ? "127.0.0.1" : m[1]!;
    base = new URL(`http://${host}:${m[2]}${defaultPath}`);
  }
  const secure = base.protocol === "https:" || base.protocol === "wss:";
  const rest = `${base.host}${base.pathname}`;
  return { http: `${secure ? "https" : "http"}://${rest}`, ws: `${secure ? "wss" : "ws"}://${rest}` };
}

interface Transport {
  request(body: RequestBody, timeoutMs: number): Promise<RpcResponse>;
  close(): void;
}

interface RequestBody {
  jsonrpc: "2.0";
  id: number;
  method: string;
  params: unknown[];
}

/** Sends one HTTP request: global fetch, or an in-process server's handler (ClientOptions.fetch). */
export type FetchRequest = (request: Request) => Promise<Response>;

class HttpTransport implements Transport {
  constructor(
    private readonly url: string,
    private readonly headers: Record<string, string>,
    private readonly send: FetchRequest = (request) => fetch(request),
  ) {}

  async request(body: RequestBody, timeoutMs: number): Promise<RpcResponse> {
    let res: Response;
    try {
      res = await this.send(
        new Request(this.url, {
          method: "POST",
          headers: { ...this.headers, "content-type": "application/json" },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(timeoutMs),
        }),
      );
    } catch (err) {
      throw new RpcTransportError(`cannot reach ${this.url}: ${(err as Error).message}`, { cause: err });
    }
    const text = await res.text();
    try {
      return JSON.parse(text) as RpcResponse;
    } catch {
      throw new RpcTransportError(`${this.url} answered HTTP ${res.status} with non-JSON: ${text.slice(0, 200)}`, {
        httpStatus: res.status,
      });
    }
  }

  close(): void {}
}

class WsTransport implements Transport {
  private socket: WebSocket | undefined;
  private opening: Promise<WebSocket> | undefined;
  private readonly pending = new Map<number, { resolve: (r: RpcResponse) => void; reject: (e: Error) => void }>();

  constructor(
    private readonly url: string,
    private readonly headers: Record<string, string>,
  ) {}

  private connect(): Promise<WebSocket> {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) return Promise.resolve(this.socket);
    if (this.opening) return this.opening;
    this.opening = new Promise<WebSocket>((resolve, reject) => {
      // Bun's WebSocket takes headers for the upgrade request (browsers' does not).
      const ws = new WebSocket(this.url, { headers: this.headers });
      ws.onopen = () => {
        this.socket = ws;
        this.opening = undefined;
        resolve(ws);
      };
      ws.onerror = () => {
        this.opening = undefined;
        reject(new RpcTransportError(`cannot open websocket ${this.url}`));
      };
      ws.onclose = () => {
        if (this.socket === ws) this.socket = undefined;
        const err = new RpcTransportError(`websocket ${this.url} closed`);
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
      };
      ws.onmessage = (ev) => {
        let msg: RpcResponse | RpcResponse[];
        try {
          msg = JSON.parse(String(ev.data)) as RpcResponse | RpcResponse[];
        } catch {
          return;
        }
        for (const r of Array.isArray(msg) ? msg : [msg]) {
          const p = typeof r.id === "number" ? this.pending.get(r.id) : undefined;
          if (p) {
            this.pending.delete(r.id as number);
            p.resolve(r);
          }
        }
      };
    });
    return this.opening;
  }

  async request(body: RequestBody, timeoutMs: number): Promise<RpcResponse> {
    const ws = await this.connect();
    return new Promise<RpcResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(body.id);
        reject(new RpcTransportError(`${body.method}: no answer from ${this.url} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(body.id, {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      ws.send(JSON.stringify(body));
    });
  }

  close(): void {
    this.socket?.close();
    this.socket = undefined;
  }
}

export interface ClientOptions {
  transport?: "http" | "ws";
  /** Per-call timeout, default 60 s. */
  timeoutMs?: number;
  /** Sent with every request (the worker's `sector_manager.rpc_client.headers`, e.g. an Authorization). */
  headers?: Record<string, string>;
  /**
   * An in-process transport: HTTP requests go to this function instead of the network (a server hosted in
   * the same process answers them through its fetch handler, no socket). HTTP transport only.
   */
  fetch?: FetchRequest;
  /** The path an address without one gets (default /rpc/v0; a Lotus node serves /rpc/v1). */
  defaultPath?: string;
}

export class RpcClient {
  private nextId = 1;
  private readonly transport: Transport;
  readonly endpoint: Endpoint;
  private readonly timeoutMs: number;

  constructor(addr: string, opts: ClientOptions = {}) {
    this.endpoint = resolveEndpoint(addr, opts.defaultPath);
    if (opts.fetch && opts.transport === "ws") {
      throw new RpcTransportError("an in-process transport (fetch) serves HTTP only; leave transport unset");
    }
    this.transport =
      opts.transport === "ws"
        ? new WsTransport(this.endpoint.ws, opts.headers ?? {})
        : new HttpTransport(this.endpoint.http, opts.headers ?? {}, opts.fetch);
    this.timeoutMs = opts.timeoutMs ?? 60_000;
  }

  /** Untyped call: raw params, raw result. Throws RpcCallError for error answers. */
  async callRaw(method: string, params: unknown[]): Promise<unknown> {
    const id = this.nextId++;
    const res = await this.transport.request({ jsonrpc: "2.0", id, method, params }, this.timeoutMs);
    if (res.error) throw new RpcCallError(method, res.error.code, res.error.message, res.error.data);
    return res.result;
  }

  /** Typed call of a described method; the result is validated against the method's result schema. */
  async call<P extends ParamList, R extends v.GenericSchema>(
    def: MethodDef<P, R>,
    ...args: CallArgs<P>
  ): Promise<v.InferOutput<R>> {
    // Trailing optional arguments left undefined are not sent (JSON would turn them into null).
    const params = [...(args as unknown[])];
    while (params.length > 0 && params[params.length - 1] === undefined) params.pop();
    const raw = await this.callRaw(def.name, params);
    const parsed = v.safeParse(def.result, raw);
    if (!parsed.success) {
      const issue = parsed.issues[0];
      throw new RpcTransportError(
        `${def.name} answered an unexpected result at ${v.getDotPath(issue) ?? "(root)"}: ${issue.message}`,
      );
    }
    return parsed.output as v.InferOutput<R>;
  }

  close(): void {
    this.transport.close();
  }
}
