import { CliError, command } from "../cli/command.ts";
import { builtinPlugins } from "../../plugins/index.ts";
import { linesOf, runConsumer } from "./consumer.ts";

export const processorCommand = command({
  meta: {
    name: "processor",
    description: `Internal: run as an external processor child for one stage (stdin/stdout NDJSON). Stages: ${builtinPlugins.map((p) => p.stage).join(", ")}`,
  },
  args: {
    stage: { type: "positional", description: "stage to serve", required: true },
  },
  examples: ['echo \'{"id":1,"task":{"routes":[]}}\' | damocles processor transfer'],
  async run({ args }) {
    const plugin = builtinPlugins.find((p) => p.stage === args.stage);
    if (!plugin) {
      throw new CliError(`unknown stage "${args.stage}"; this build serves: ${builtinPlugins.map((p) => p.stage).join(", ")}`, 2);
    }
    await runConsumer(plugin, {
      lines: linesOf(Bun.stdin.stream()),
      write: (line) => process.stdout.write(`${line}\n`),
    });
  },
});
