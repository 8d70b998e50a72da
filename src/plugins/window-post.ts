import { definePlugin } from "../core/plugin/api.ts";
import {
  fromWirePoStTask,
  proofsToWire,
  WindowPoStInputSchema,
  WindowPoStOutputSchema,
} from "../core/processor/stages/post.ts";
import { generateWindowPost } from "../core/proofs/index.ts";

/**
 * window_post: the WindowPoSt SNARKs of one partition set. Sectors whose files cannot be read are not an
 * error: they come back in `faults`, and `proofs` cover the remaining sectors (the poster declares the
 * faults and submits these proofs). Needs the window-post parameters of the sector size.
 */
export default definePlugin({
  name: "builtin-window-post",
  stage: "window_post",
  description: "WindowPoSt (unreadable sectors reported as faults, the rest proven)",
  input: WindowPoStInputSchema,
  output: WindowPoStOutputSchema,
  async run(task) {
    const r = await generateWindowPost(fromWirePoStTask(task));
    return { proofs: proofsToWire(r.proofs), faults: r.faults };
  },
});
