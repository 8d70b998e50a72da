import { writeSync } from "node:fs";
import * as v from "valibot";
import { CliError, command } from "../core/cli/command.ts";
import { childLogger } from "../core/log/index.ts";
import { LAUNCHER_COMMAND, launch } from "../core/processor/launcher.ts";

const NodeId = v.pipe(
  v.string(),
  v.regex(/^\d+$/, "expected a NUMA node id (0, 1, ...)"),
  v.transform(Number),
  v.integer(),
  v.maxValue(1023, "NUMA node ids go up to 1023"),
);

/**
 * Internal: what the worker puts before a processor's command when it has `numa_preferred` (in place of
 * numactl). See src/core/processor/launcher.ts.
 */
export const processorExecCommand = command({
  meta: {
    name: LAUNCHER_COMMAND,
    description:
      "Internal: set this process's NUMA memory policy (numa_preferred) and exec PROGRAM in its place; the worker starts processors this way",
  },
  args: {
    "numa-preferred": {
      type: "string",
      description: "NUMA node to prefer for every allocation of PROGRAM and its threads",
      required: true,
    },
  },
  examples: [`damocles ${LAUNCHER_COMMAND} --numa-preferred 0 -- damocles processor pc1`],
  run({ args }) {
    const node = v.safeParse(NodeId, args["numa-preferred"]);
    if (!node.success) {
      throw new CliError(`--numa-preferred ${JSON.stringify(args["numa-preferred"])}: ${node.issues[0].message}`, 2);
    }
    const code = launch(node.output, args._, {
      writeLine: (line) => writeSync(1, `${line}\n`),
      log: childLogger(LAUNCHER_COMMAND),
    });
    process.exit(code);
  },
});
