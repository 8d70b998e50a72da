import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import { childLogger } from "../../src/core/log/index.ts";
import { validateInput } from "../../src/core/plugin/api.ts";
import { ProcessorChild, ProcessorError } from "../../src/core/processor/producer.ts";
import {
  proofsFromWire,
  toWirePoStTask,
  WindowPoStOutputSchema,
  WinningPoStOutputSchema,
} from "../../src/core/processor/stages/post.ts";
import { privateReplica } from "../../src/manager/prover/local.ts";
import windowPost from "../../src/plugins/window-post.ts";
import { postSectors2KiB } from "../fixtures/post-sectors.ts";
import { ENTRY } from "../helpers/cli.ts";
import { copySectors, seedOf, verifyWindow, verifyWinning, windowTask, winningTask } from "./helpers.ts";

// Real 2KiB proofs in real `damocles processor <stage>` children.
setDefaultTimeout(10 * 60_000);

const tmp = mkdtempSync(join(tmpdir(), "damocles-post-plugin-"));
const children: ProcessorChild[] = [];
afterAll(async () => {
  await Promise.all(children.map((c) => c.stop()));
  rmSync(tmp, { recursive: true, force: true });
});

/** `damocles processor <stage>` from source, through the repo's own producer (which checks the ready line). */
async function processor(stage: string): Promise<ProcessorChild> {
  const child = new ProcessorChild({
    stage,
    index: 0,
    command: [process.execPath, ENTRY, "processor", stage],
    env: { ...(process.env as Record<string, string>), NO_COLOR: "1" },
    stableWaitMs: 30_000,
    autoRestart: false,
  });
  children.push(child);
  await child.start();
  return child;
}

describe("window_post / winning_post plugins", () => {
  test("`damocles processor window_post` announces itself, proves a task with a missing sector, and the proof verifies", async () => {
    const child = await processor("window_post");
    expect(child.isReady).toBe(true);
    const sectors = copySectors((await postSectors2KiB()).slice(0, 3), join(tmp, "window"));
    rmSync(sectors[2]!.sealedPath);
    const task = windowTask(sectors, seedOf("plugin window"));
    const wire = toWirePoStTask({ ...task, replicas: task.replicas.map(privateReplica) });
    const output = v.parse(WindowPoStOutputSchema, await child.call(wire));
    expect(output.faults).toEqual([sectors[2]!.sectorId]);
    expect(output.proofs.length).toBe(1);
    expect(await verifyWindow(sectors.slice(0, 2), task.seed, proofsFromWire(output.proofs, task.proofType))).toBe(
      true,
    );
    // A bad task is an err_msg naming the field, and the child keeps serving.
    await expect(child.call({ ...wire, proof_type: "StackedDrgWinning2KiBV1" })).rejects.toThrow(
      "invalid window_post task: proof_type",
    );
    expect(child.isReady).toBe(true);
  });

  test("`damocles processor winning_post` proves the challenged sectors; an unreadable sector is a task error", async () => {
    const child = await processor("winning_post");
    const task = await winningTask(await postSectors2KiB(), seedOf("plugin winning"));
    const wire = toWirePoStTask({ ...task, replicas: task.replicas.map(privateReplica) });
    const output = v.parse(WinningPoStOutputSchema, await child.call(wire));
    expect(output.proofs.length).toBe(1);
    expect(await verifyWinning(task, proofsFromWire(output.proofs, task.proofType)[0]!)).toBe(true);
    const missing = {
      ...wire,
      replicas: wire.replicas.map((r) => ({ ...r, sealed_file: join(tmp, "no-such-sealed-file") })),
    };
    const err = await child.call(missing).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProcessorError);
    expect((err as ProcessorError).kind).toBe("task");
  });

  test("in-process (a worker without [[processors.window_post]]): the plugin answers the same wire shape", async () => {
    const sectors = (await postSectors2KiB()).slice(0, 2);
    const task = windowTask(sectors, seedOf("plugin in-process"));
    const input = await validateInput(
      windowPost,
      toWirePoStTask({ ...task, replicas: task.replicas.map(privateReplica) }),
    );
    if (!input.ok) throw new Error(input.error);
    const output = await windowPost.run(input.value, {
      log: childLogger("test"),
      signal: new AbortController().signal,
    });
    expect(v.parse(WindowPoStOutputSchema, output)).toEqual(output);
    expect(output.faults).toEqual([]);
    expect(await verifyWindow(sectors, task.seed, proofsFromWire(output.proofs, task.proofType))).toBe(true);
  });
});
