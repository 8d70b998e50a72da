export * from "./cid.ts";
export * from "./commd.ts";
export * from "./id.ts";
export * from "./proof.ts";
export * from "./states.ts";
export * from "./wire.ts";
