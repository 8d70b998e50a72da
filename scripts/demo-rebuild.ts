/**
 * The rebuild part of ./scripts/demo (--rebuild N): once the sectors are sealed, N of them lose their sealed
 * replica in the persist store. Each goes through its own steps while the cluster keeps proving:
 *   lost → faulty (the poster found the file missing and declared the sector faulty in its WindowPoSt)
 *   → queued (`util sealer sectors rebuild`; the first one also switches sealing thread #0 to
 *   plan = "rebuild" through its <location>/config.toml, under the running worker)
 *   → rebuilt (the worker sealed it again, checked its CommR against the chain's, persisted it)
 *   → recovered (the poster found it provable again and declared it recovered in a WindowPoSt the devnet
 *   verified).
 */

import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RpcClient } from "../src/core/rpc/client.ts";
import { Proving } from "../src/core/sector/api-proving.ts";
import { DamoclesRebuild } from "../src/core/sector/api-rebuild.ts";

type Run = (args: string[]) => Promise<string>;
type Say = (msg: string) => void;
type Step = "lost" | "faulty" | "queued" | "rebuilt" | "recovered";

export class DemoRebuilds {
  private readonly steps = new Map<number, Step>();
  private switched = false;

  constructor(
    private readonly opts: {
      run: Run;
      say: Say;
      client: RpcClient;
      api: string;
      managerHome: string;
      /** The location of the sealing thread switched to plan = "rebuild". */
      threadLocation: string;
    },
  ) {}

  /** Deletes the sealed replica of each sector in `numbers` (of miner t01000, in store persist-1). */
  lose(numbers: number[]): void {
    for (const n of numbers) {
      rmSync(join(this.opts.managerHome, "persist-1", "sealed", `s-t01000-${n}`));
      this.steps.set(n, "lost");
    }
    this.opts.say(`deleted the sealed replica of ${numbers.map((n) => `s-t01000-${n}`).join(", ")}`);
  }

  /** One look at the chain and the manager; moves each sector on as far as it has got. Throws when a rebuild failed. */
  async advance(): Promise<void> {
    const { client, say } = this.opts;
    const faulty = new Set((await client.call(Proving.Faults, 1000)).map((f) => f.number));
    const tasks = await client.call(DamoclesRebuild.RebuildTasks);
    for (const [n, step] of this.steps) {
      const name = `s-t01000-${n}`;
      if (step === "lost" && faulty.has(n)) {
        this.steps.set(n, "faulty");
        say(`${name}: faulty on chain (its replica is gone); queuing a rebuild`);
        this.switchThread();
        await this.opts.run([
          "util",
          "sealer",
          "sectors",
          "rebuild",
          "1000",
          String(n),
          "--api",
          this.opts.api,
          "--home",
          this.opts.managerHome,
        ]);
        this.steps.set(n, "queued");
      } else if (step === "queued") {
        const task = tasks.find((t) => t.Info.Sector.ID.Number === n);
        if (task?.State === "failed") throw new Error(`the rebuild of ${name} failed: ${task.ErrorInfo}`);
        if (task?.State === "finished") {
          this.steps.set(n, "rebuilt");
          say(`${name}: rebuilt (CommR checked against the chain), persisted and indexed`);
        }
      } else if (step === "rebuilt" && !faulty.has(n)) {
        this.steps.set(n, "recovered");
        say(`${name}: recovered (proven again in a devnet-verified WindowPoSt)`);
      }
    }
  }

  /** The seed's motivating example: a running thread changes plan through its hot config file. */
  private switchThread(): void {
    if (this.switched) return;
    this.switched = true;
    writeFileSync(join(this.opts.threadLocation, "config.toml"), 'plan = "rebuild"\n');
    this.opts.say(`sealing thread #0 switched to plan = "rebuild" by ${this.opts.threadLocation}/config.toml`);
  }

  get done(): boolean {
    return [...this.steps.values()].every((s) => s === "recovered");
  }

  count(step: "rebuilt" | "recovered"): number {
    const past: Step[] = step === "rebuilt" ? ["rebuilt", "recovered"] : ["recovered"];
    return [...this.steps.values()].filter((s) => past.includes(s)).length;
  }
}
