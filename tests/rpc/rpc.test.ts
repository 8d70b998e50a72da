import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Hono } from "hono";
import * as v from "valibot";
import { OPEN_ACCESS, openAuthenticator } from "../../src/core/auth/index.ts";
import {
  defineMethod,
  mountRpc,
  RpcCallError,
  RpcClient,
  RpcError,
  RpcErrorCode,
  RpcRegistry,
  type RunningServer,
  resolveEndpoint,
  serve,
} from "../../src/core/rpc/index.ts";
import { SectorIDSchema } from "../../src/core/sector/index.ts";

const Echo = defineMethod(
  "Test.Echo",
  [
    ["sid", SectorIDSchema],
    ["flag", v.optional(v.boolean())],
  ] as const,
  SectorIDSchema,
  "read",
);
const Fail = defineMethod("Test.Fail", [["kind", v.string()]] as const, v.null(), "read");
const Slow = defineMethod("Test.Slow", [["ms", v.number()]] as const, v.number(), "read");

let running: RunningServer;
let calls: { method: string; ok: boolean }[] = [];

beforeAll(() => {
  const registry = new RpcRegistry()
    .implement(Echo, (sid, flag) => (flag ? { Miner: sid.Miner, Number: sid.Number + 1 } : sid))
    .implement(Fail, (kind) => {
      if (kind === "app") throw new RpcError(RpcErrorCode.SectorStateNotFound, "sector state not found: s-t01000-9");
      throw new Error("boom");
    })
    .implement(Slow, async (ms) => {
      await Bun.sleep(ms);
      return ms;
    });
  registry.observe((method, _ms, ok) => calls.push({ method, ok }));
  const app = new Hono();
  app.get("/healthcheck", (c) => c.text("ok"));
  mountRpc(app, registry, openAuthenticator);
  running = serve({ auth: openAuthenticator, app, registry, hostname: "127.0.0.1", port: 0 });
});

afterAll(async () => {
  await running.stop();
});

async function post(body: string): Promise<{ status: number; json: any }> {
  const res = await fetch(`${running.url}/rpc/v0`, {
    method: "POST",
    body,
    headers: { "content-type": "application/json" },
  });
  return { status: res.status, json: await res.json() };
}

describe("JSON-RPC server over HTTP", () => {
  test("positional params, go-jsonrpc style", async () => {
    const { status, json } = await post(
      JSON.stringify({ jsonrpc: "2.0", id: 7, method: "Test.Echo", params: [{ Miner: 1000, Number: 3 }] }),
    );
    expect(status).toBe(200);
    expect(json).toEqual({ jsonrpc: "2.0", id: 7, result: { Miner: 1000, Number: 3 } });
  });

  test("malformed JSON is -32700", async () => {
    const { json } = await post("{not json");
    expect(json.error.code).toBe(-32700);
    expect(json.id).toBeNull();
  });

  test("not a request object is -32600", async () => {
    expect((await post("42")).json.error.code).toBe(-32600);
    expect((await post(JSON.stringify({ id: 1, method: 5 }))).json.error.code).toBe(-32600);
    expect((await post("[]")).json.error.code).toBe(-32600);
  });

  test("unknown method is -32601", async () => {
    const { json } = await post(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "Venus.Nope", params: [] }));
    expect(json.error.code).toBe(-32601);
    expect(json.error.message).toContain("Venus.Nope");
  });

  test("bad params are -32602 and name the field", async () => {
    const { json } = await post(
      JSON.stringify({ jsonrpc: "2.0", id: 1, method: "Test.Echo", params: [{ Miner: "x", Number: 1 }] }),
    );
    expect(json.error.code).toBe(-32602);
    expect(json.error.message).toContain('"sid.Miner"');
    expect(json.error.message).toContain('"x"');
    const missing = await post(JSON.stringify({ jsonrpc: "2.0", id: 2, method: "Test.Echo", params: [] }));
    expect(missing.json.error.code).toBe(-32602);
    expect(missing.json.error.message).toContain('"sid"');
    const extra = await post(
      JSON.stringify({ jsonrpc: "2.0", id: 3, method: "Test.Echo", params: [{ Miner: 1, Number: 1 }, true, 3] }),
    );
    expect(extra.json.error.code).toBe(-32602);
    const named = await post(JSON.stringify({ jsonrpc: "2.0", id: 4, method: "Test.Echo", params: { sid: 1 } }));
    expect(named.json.error.code).toBe(-32602);
  });

  test("application errors keep their code, others become -32603, server keeps serving", async () => {
    expect(
      (await post(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "Test.Fail", params: ["app"] }))).json.error.code,
    ).toBe(11001);
    const internal = await post(JSON.stringify({ jsonrpc: "2.0", id: 2, method: "Test.Fail", params: ["other"] }));
    expect(internal.json.error.code).toBe(-32603);
    expect(internal.json.error.message).toContain("boom");
    const after = await post(
      JSON.stringify({ jsonrpc: "2.0", id: 3, method: "Test.Echo", params: [{ Miner: 1, Number: 2 }] }),
    );
    expect(after.json.result).toEqual({ Miner: 1, Number: 2 });
  });

  test("batches and notifications", async () => {
    const { json } = await post(
      JSON.stringify([
        { jsonrpc: "2.0", id: 1, method: "Test.Echo", params: [{ Miner: 1, Number: 1 }] },
        { jsonrpc: "2.0", method: "Test.Echo", params: [{ Miner: 1, Number: 1 }] },
        { jsonrpc: "2.0", id: 2, method: "Missing" },
      ]),
    );
    expect(json.length).toBe(2);
    expect(json[1].error.code).toBe(-32601);
    const res = await fetch(`${running.url}/rpc/v0`, {
      method: "POST",
      body: JSON.stringify({ jsonrpc: "2.0", method: "Test.Echo", params: [{ Miner: 1, Number: 1 }] }),
    });
    expect(res.status).toBe(204);
  });

  test("other routes of the hono app are served", async () => {
    expect(await (await fetch(`${running.url}/healthcheck`)).text()).toBe("ok");
  });

  test("observers see every dispatched call", async () => {
    calls = [];
    await post(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "Test.Fail", params: ["x"] }));
    expect(calls).toEqual([{ method: "Test.Fail", ok: false }]);
  });
});

describe("RpcClient", () => {
  for (const transport of ["http", "ws"] as const) {
    test(`typed calls and error codes over ${transport}`, async () => {
      const client = new RpcClient(running.url, { transport });
      try {
        expect(await client.call(Echo, { Miner: 5, Number: 6 }, true)).toEqual({ Miner: 5, Number: 7 });
        const err = await client.call(Fail, "app").catch((e: unknown) => e);
        expect(err).toBeInstanceOf(RpcCallError);
        expect((err as RpcCallError).code).toBe(11001);
        const bad = await client.callRaw("Test.Echo", [{ Miner: -1, Number: 0 }]).catch((e: RpcCallError) => e);
        expect((bad as RpcCallError).code).toBe(-32602);
      } finally {
        client.close();
      }
    });
  }

  test("websocket answers concurrent calls as each completes", async () => {
    const client = new RpcClient(running.url, { transport: "ws" });
    try {
      const order: number[] = [];
      await Promise.all([200, 10, 50].map((ms) => client.call(Slow, ms).then((r) => order.push(r))));
      expect(order).toEqual([10, 50, 200]);
    } finally {
      client.close();
    }
  });

  test("a raw websocket frame with bad JSON gets -32700 and the socket stays usable", async () => {
    const ws = new WebSocket(resolveEndpoint(running.url).ws);
    const messages: any[] = [];
    await new Promise<void>((resolve) => (ws.onopen = () => resolve()));
    const got = (n: number) =>
      new Promise<void>((resolve) => {
        ws.onmessage = (ev) => {
          messages.push(JSON.parse(String(ev.data)));
          if (messages.length >= n) resolve();
        };
      });
    let wait = got(1);
    ws.send("{oops");
    await wait;
    wait = got(2);
    ws.send(JSON.stringify({ jsonrpc: "2.0", id: 9, method: "Test.Echo", params: [{ Miner: 1, Number: 1 }] }));
    await wait;
    ws.close();
    expect(messages[0].error.code).toBe(-32700);
    expect(messages[1].result).toEqual({ Miner: 1, Number: 1 });
  });

  test("configured headers travel with every request, over HTTP and over the websocket upgrade", async () => {
    const seen: Array<string | null> = [];
    const registry = new RpcRegistry();
    registry.implement(Echo, (sid) => sid);
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(req, srv) {
        seen.push(req.headers.get("x-damocles-test"));
        if (srv.upgrade(req)) return undefined;
        return new Response((await registry.handleText(await req.text(), OPEN_ACCESS)) ?? null);
      },
      websocket: {
        async message(ws, message) {
          const answer = await registry.handleText(String(message), OPEN_ACCESS);
          if (answer !== undefined) ws.send(answer);
        },
      },
    });
    try {
      for (const transport of ["http", "ws"] as const) {
        const c = new RpcClient(`127.0.0.1:${server.port}`, { transport, headers: { "X-Damocles-Test": transport } });
        expect(await c.call(Echo, { Miner: 1, Number: 2 }, false)).toEqual({ Miner: 1, Number: 2 });
        c.close();
      }
    } finally {
      server.stop(true);
    }
    expect(seen).toEqual(["http", "ws"]);
  });

  test("address forms", () => {
    expect(resolveEndpoint("127.0.0.1:1789").http).toBe("http://127.0.0.1:1789/rpc/v0");
    expect(resolveEndpoint(":1789").ws).toBe("ws://127.0.0.1:1789/rpc/v0");
    expect(resolveEndpoint("/ip4/10.0.0.1/tcp/1789/http").http).toBe("http://10.0.0.1:1789/rpc/v0");
    expect(resolveEndpoint("http://h:1").http).toBe("http://h:1/rpc/v0");
    expect(() => resolveEndpoint("nonsense")).toThrow("host:port");
  });
});
