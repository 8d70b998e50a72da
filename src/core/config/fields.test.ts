import { describe, expect, test } from "bun:test";
import { formatCpuset, parseCpuset, parseListenAddr, parseRpcAddr } from "./fields.ts";

describe("cpuset", () => {
  test("parses ranges and lists", () => {
    expect(parseCpuset("0-3,8,10-11")).toEqual([0, 1, 2, 3, 8, 10, 11]);
    expect(parseCpuset("2,5,8,11")).toEqual([2, 5, 8, 11]);
  });
  test.each(["", "a-b", "3-1", "1,,2", "0-"])("rejects %p", (s) => expect(parseCpuset(s)).toBeUndefined());
  test("round-trips to the canonical form", () => expect(formatCpuset([7, 0, 1, 2, 3, 9])).toBe("0-3,7,9"));
});

describe("manager address", () => {
  test.each([
    ["/ip4/127.0.0.1/tcp/1789", "http://127.0.0.1:1789/rpc/v0"],
    ["/ip4/10.0.0.2/tcp/1789/https", "https://10.0.0.2:1789/rpc/v0"],
    ["/dns/manager.local/tcp/1789", "http://manager.local:1789/rpc/v0"],
    ["http://127.0.0.1:1789", "http://127.0.0.1:1789/rpc/v0"],
    ["ws://127.0.0.1:1789", "http://127.0.0.1:1789/rpc/v0"],
  ])("%s", (addr, url) => expect(parseRpcAddr(addr)).toBe(url));
  test.each(["/ip4/{some_ip}/tcp/1789", "/ip4/1.2.3/tcp/1", "/ip4/127.0.0.1/udp/1789", "ftp://x", "127.0.0.1:1789x"])(
    "rejects %p",
    (addr) => expect(parseRpcAddr(addr)).toBeUndefined(),
  );
});

test("listen addresses", () => {
  expect(parseListenAddr(":1789")).toEqual({ host: "0.0.0.0", port: 1789 });
  expect(parseListenAddr("127.0.0.1:9000")).toEqual({ host: "127.0.0.1", port: 9000 });
  expect(parseListenAddr("nope")).toBeUndefined();
});
