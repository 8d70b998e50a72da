export * from "./errors.ts";
export * from "./method.ts";
export * from "./server.ts";
export * from "./client.ts";
