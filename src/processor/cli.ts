import { CliError, command } from "../core/cli/command.ts";
import { childLogger } from "../core/log/index.ts";
import { loadPlugins } from "../core/plugin/loader.ts";
import { runConsumer } from "../core/processor/consumer.ts";
import { linesOf } from "../core/processor/lines.ts";
import { logMemoryPolicy, raiseOpenFilesLimit } from "../core/proofs/index.ts";
import { builtinPlugins } from "../plugins/index.ts";

export const processorCommand = command({
  meta: {
    name: "processor",
    description: `Internal: run as an external processor child for one stage (stdin/stdout NDJSON, logs on stderr). Built-in stages: ${builtinPlugins.map((p) => p.stage).join(", ")}`,
  },
  args: {
    stage: { type: "positional", description: "stage to serve", required: true },
    "plugins-dir": {
      type: "string",
      description: "also load stage plugins from this directory (env DAMOCLES_PLUGINS_DIR)",
    },
  },
  examples: [
    'echo \'{"id":1,"task":{"routes":[]}}\' | damocles processor transfer',
    "damocles processor my_stage --plugins-dir /etc/damocles/plugins",
  ],
  async run({ args }) {
    const registry = await loadPlugins(builtinPlugins, args["plugins-dir"] ?? process.env.DAMOCLES_PLUGINS_DIR);
    const plugin = registry.get(args.stage);
    if (!plugin) {
      throw new CliError(`unknown stage "${args.stage}"; available: ${[...registry.keys()].join(", ")}`, 2);
    }
    const log = childLogger(`processor ${args.stage}`);
    raiseOpenFilesLimit(log);
    logMemoryPolicy(log);
    await runConsumer(plugin, {
      lines: linesOf(Bun.stdin.stream()),
      write: (line) => process.stdout.write(`${line}\n`),
    });
    // Native proof work may still hold threads: leave now rather than finish work nobody will receive.
    process.exit(0);
  },
});
