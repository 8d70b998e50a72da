import type { AnyStagePlugin } from "../core/plugin/api.ts";
import transfer from "./transfer.ts";

/** The built-in stage plugins, keyed by stage. Plugins from a plugins/ directory may replace or add to these. */
export const builtinPlugins: readonly AnyStagePlugin[] = [transfer as AnyStagePlugin];
