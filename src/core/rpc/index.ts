/**
 * JSON-RPC 2.0: `defineMethod` describes a method once (name, validated params, result schema); the
 * server (hono, HTTP + websocket) and the client share that description; errors travel as codes.
 */

export * from "./client.ts";
export * from "./errors.ts";
export * from "./method.ts";
export * from "./server.ts";
