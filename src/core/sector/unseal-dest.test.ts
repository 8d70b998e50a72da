import { expect, test } from "bun:test";
import { parseUnsealDest } from "./unseal-dest.ts";

test("the destination forms of the original, parsed", () => {
  expect(parseUnsealDest("file:///srv/pieces/a%20b")).toEqual({ kind: "file", path: "/srv/pieces/a b" });
  expect(parseUnsealDest("https://h:8443/p?x=1")).toEqual({ kind: "http", url: "https://h:8443/p?x=1" });
  expect(parseUnsealDest("store://persist-1/pieces/p1")).toEqual({
    kind: "store",
    store: "persist-1",
    path: "pieces/p1",
  });
  expect(parseUnsealDest("store:///baga6ea4sea")).toEqual({ kind: "store", store: undefined, path: "baga6ea4sea" });
  expect(parseUnsealDest("market://s1/baga?host=m:41235&scheme=http&token=t")).toEqual({
    kind: "market",
    store: "s1",
    path: "baga",
    host: "m:41235",
    scheme: "http",
    token: "t",
  });
});

test("a destination a worker could not deliver to is refused with the reason", () => {
  expect(() => parseUnsealDest("/tmp/x")).toThrow('invalid unseal destination "/tmp/x": not a URL');
  expect(() => parseUnsealDest("file://host/x")).toThrow(/a file URL names no host/);
  expect(() => parseUnsealDest("file:///")).toThrow(/the file URL has no path/);
  expect(() => parseUnsealDest("store://persist-1")).toThrow(/the store URL has no path/);
  expect(() => parseUnsealDest("market://s1/baga?host=m")).toThrow(/needs host, scheme and token/);
  expect(() => parseUnsealDest("s3://bucket/x")).toThrow(/unsupported scheme s3/);
});
