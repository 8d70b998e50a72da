import { definePlugin } from "../core/plugin/api.ts";
import {
  fromWirePoStTask,
  proofsToWire,
  WinningPoStInputSchema,
  WinningPoStOutputSchema,
} from "../core/processor/stages/post.ts";
import { generateWinningPost } from "../core/proofs/index.ts";

/**
 * winning_post: the WinningPoSt SNARK over the challenged sectors (the caller picks them with
 * generate_winning_post_sector_challenge). A block must not wait on a partial proof, so an unreadable
 * sector fails the task instead of being reported as a fault.
 */
export default definePlugin({
  name: "builtin-winning-post",
  stage: "winning_post",
  description: "WinningPoSt over the challenged sectors",
  input: WinningPoStInputSchema,
  output: WinningPoStOutputSchema,
  async run(task) {
    return { proofs: proofsToWire(await generateWinningPost(fromWirePoStTask(task))) };
  },
});
