/**
 * Loads the napi-rs addon (crates/proofs-ffi) and describes its raw surface. Nothing outside
 * src/core/proofs imports this file: the typed API in the sibling modules is the contract.
 *
 * The `.node` is required by a literal relative path so `bun build --compile` embeds it in
 * dist/damocles (napi-rs' generated index.js loader is not embeddable). It is loaded on first use,
 * so modules that only need types or constants work where the addon is not built.
 *
 * The types are the declarations napi generates from the Rust sources (native/damocles_proofs.d.ts,
 * refreshed by scripts/build-addon, which fails when the committed copy is stale).
 *
 * Raw conventions: registered proofs are wire integers; 32-byte values are Uint8Array; u64
 * quantities are JS numbers (safe integers, checked by the typed layer); phase outputs are JSON text.
 */

import type * as Addon from "./native/damocles_proofs.d.ts";

export type * from "./native/damocles_proofs.d.ts";
export type NativeAddon = typeof Addon;

/** Where scripts/build-addon installs the addon, relative to this file. */
export const ADDON_RELATIVE_PATH = "native/damocles_proofs.node";

export class AddonNotBuiltError extends Error {
  constructor(cause: unknown) {
    super(
      `proofs addon not built: run ./scripts/setup (or ./scripts/build-addon) ` +
        `[src/core/proofs/${ADDON_RELATIVE_PATH}: ${cause instanceof Error ? cause.message : String(cause)}]`,
    );
    this.name = "AddonNotBuiltError";
  }
}

let addon: NativeAddon | undefined;

/** The addon, loaded on first call. Throws AddonNotBuiltError with the fix when it is missing. */
export function native(): NativeAddon {
  if (addon) return addon;
  try {
    // Literal path: keeps the addon embeddable by `bun build --compile`.
    addon = require("./native/damocles_proofs.node") as NativeAddon;
  } catch (err) {
    throw new AddonNotBuiltError(err);
  }
  return addon;
}

/** True when the addon can be loaded (for callers that degrade gracefully). */
export function addonAvailable(): boolean {
  try {
    native();
    return true;
  } catch {
    return false;
  }
}
