/**
 * API tokens, Lotus/Venus style: HS256 JWTs over a node's secret carrying a permission (read < write <
 * sign < admin, each including the ones before). Servers turn a request's token into a `Grant`
 * (`Authenticator`); the RPC registry refuses a method whose permission the grant lacks. A node's secret
 * and admin token live in its home, mode 0600. Tokens and secrets never go into logs or messages.
 */

export * from "./api.ts";
export * from "./authenticator.ts";
export * from "./client-token.ts";
export * from "./grant.ts";
export * from "./perm.ts";
export * from "./secret.ts";
export * from "./token.ts";
