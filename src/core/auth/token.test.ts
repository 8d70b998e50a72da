import { describe, expect, test } from "bun:test";
import { sign } from "hono/jwt";
import { createToken, TokenError, verifyToken } from "./token.ts";

const secret = Uint8Array.from({ length: 32 }, (_, i) => i);
const key = () => crypto.subtle.importKey("raw", secret, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);

async function problem(token: string, s = secret): Promise<string> {
  const err = await verifyToken(s, token).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(TokenError);
  expect((err as Error).message).not.toContain(token); // a refused token is never echoed back
  return (err as TokenError).problem;
}

describe("API tokens", () => {
  test("a token holds its permission and every one below it, with both conventions' claims", async () => {
    const token = await createToken(secret, { name: "worker-1", perm: "write" });
    const grant = await verifyToken(secret, token);
    expect(grant.name).toBe("worker-1");
    expect([...grant.perms]).toEqual(["read", "write"]);
    const claims = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString());
    expect(claims).toEqual({ name: "worker-1", perm: "write", Allow: ["read", "write"] });
  });

  test("tokens of Lotus (Allow only) and of Venus (name + perm) are read", async () => {
    const lotus = await sign({ Allow: ["read", "write", "sign"] }, await key(), "HS256");
    expect([...(await verifyToken(secret, lotus)).perms]).toEqual(["read", "write", "sign"]);
    const venus = await sign({ name: "ops", perm: "admin", ext: "" }, await key(), "HS256");
    expect(await verifyToken(secret, venus)).toMatchObject({ name: "ops" });
  });

  test("forged, tampered, unsigned and permission-less tokens are refused with the reason, never echoed", async () => {
    const good = await createToken(secret, { name: "reader", perm: "read" });
    expect(await problem(good, new Uint8Array(32))).toBe("signature");
    const [h, , sig] = good.split(".");
    const escalated = Buffer.from(JSON.stringify({ name: "reader", perm: "admin" })).toString("base64url");
    expect(await problem(`${h}.${escalated}.${sig}`)).toBe("signature");
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString("base64url")}.${escalated}.x`;
    expect(await problem(none)).toBe("malformed");
    expect(await problem("not a token")).toBe("malformed");
    expect(await problem(await sign({ name: "x", perm: "root" }, await key(), "HS256"))).toBe("claims");
    expect(await problem(await sign({ name: "x" }, await key(), "HS256"))).toBe("claims");
  });

  test("a token name the logs could not show plainly is refused", async () => {
    await expect(createToken(secret, { name: "a b\n", perm: "read" })).rejects.toThrow("token name");
  });
});
