import { expect, test } from "bun:test";
import * as v from "valibot";
import { OPEN_ACCESS } from "../auth/grant.ts";
import { RpcClient, resolveEndpoint } from "./client.ts";
import { RpcTransportError } from "./errors.ts";
import { defineMethod } from "./method.ts";
import { RpcRegistry } from "./server.ts";

test("an address without a path gets the default path; one with a path keeps it", () => {
  expect(resolveEndpoint("127.0.0.1:1234").http).toBe("http://127.0.0.1:1234/rpc/v0");
  expect(resolveEndpoint("/ip4/127.0.0.1/tcp/1234/http", "/rpc/v1").http).toBe("http://127.0.0.1:1234/rpc/v1");
  expect(resolveEndpoint("node:1234", "/rpc/v1").ws).toBe("ws://node:1234/rpc/v1");
  expect(resolveEndpoint("https://node", "/rpc/v1").http).toBe("https://node/rpc/v1");
  expect(resolveEndpoint("http://node:1/custom", "/rpc/v1").http).toBe("http://node:1/custom");
});

test("an in-process transport: requests go to the given fetch, no socket", async () => {
  const Echo = defineMethod("Test.Echo", [["text", v.string()]] as const, v.string(), "read");
  const registry = new RpcRegistry().implement(Echo, (text) => `echo ${text}`);
  const seen: string[] = [];
  const client = new RpcClient("127.0.0.1:1", {
    defaultPath: "/rpc/v1",
    headers: { Authorization: "Bearer t" },
    fetch: async (request) => {
      seen.push(`${request.method} ${request.url} ${request.headers.get("authorization")}`);
      return new Response((await registry.handleText(await request.text(), OPEN_ACCESS)) ?? "");
    },
  });
  expect(await client.call(Echo, "hi")).toBe("echo hi");
  expect(seen).toEqual(["POST http://127.0.0.1:1/rpc/v1 Bearer t"]);
  expect(() => new RpcClient("127.0.0.1:1", { transport: "ws", fetch: async () => new Response("") })).toThrow(
    RpcTransportError,
  );
});

test("a non-JSON answer carries its HTTP status", async () => {
  const client = new RpcClient("127.0.0.1:1", { fetch: async () => new Response("", { status: 401 }) });
  const err = await client.callRaw("Any", []).catch((e) => e);
  expect(err).toBeInstanceOf(RpcTransportError);
  expect((err as RpcTransportError).httpStatus).toBe(401);
});
