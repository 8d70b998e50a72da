/** The built-in stage plugins, in pipeline order: the list the worker and `processor <stage>` load. */

import type { AnyStagePlugin } from "../core/plugin/api.ts";
import addPieces from "./add-pieces.ts";
import c1 from "./c1.ts";
import c2 from "./c2.ts";
import pc1 from "./pc1.ts";
import pc2 from "./pc2.ts";
import snapEncode from "./snap-encode.ts";
import snapProve from "./snap-prove.ts";
import transfer from "./transfer.ts";
import treeD from "./tree-d.ts";
import unseal from "./unseal.ts";
import windowPost from "./window-post.ts";
import winningPost from "./winning-post.ts";

/** The built-in stage plugins. Plugins from a plugins/ directory may replace or add to these. */
export const builtinPlugins: readonly AnyStagePlugin[] = [
  addPieces,
  treeD,
  pc1,
  pc2,
  c1,
  c2,
  snapEncode,
  snapProve,
  transfer,
  windowPost,
  winningPost,
  unseal,
] as AnyStagePlugin[];
