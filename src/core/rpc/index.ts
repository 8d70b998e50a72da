export * from "./client.ts";
export * from "./errors.ts";
export * from "./method.ts";
export * from "./server.ts";
