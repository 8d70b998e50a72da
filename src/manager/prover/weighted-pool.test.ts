import { describe, expect, test } from "bun:test";
import { ChildTaskError, type PoolChild, pickWeighted, WeightedPool } from "./weighted-pool.ts";

/** An in-memory child: every call waits until the test answers it. */
class FakeChild implements PoolChild {
  isReady = true;
  isStopped = false;
  readonly calls: { task: unknown; answer(out: unknown): void; fail(err: Error): void }[] = [];
  private readyWaiters: (() => void)[] = [];
  private callWaiters: (() => void)[] = [];

  constructor(readonly name: string) {}

  call(task: unknown): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.calls.push({ task, answer: resolve, fail: reject });
      for (const w of this.callWaiters.splice(0)) w();
    });
  }

  whenReady(): Promise<void> {
    return this.isReady ? Promise.resolve() : new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  becomeReady(): void {
    this.isReady = true;
    for (const w of this.readyWaiters.splice(0)) w();
  }

  /** Resolves once this child has received `n` calls in total. */
  async received(n: number): Promise<void> {
    while (this.calls.length < n) await new Promise<void>((resolve) => this.callWaiters.push(resolve));
  }
}

/** A deterministic "random" source cycling through the given values. */
function sequence(...values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length]!;
}

describe("pickWeighted", () => {
  test("splits [0, 1) in proportion to the weights; weight 0 counts as 1 (as in the Go manager)", () => {
    const weights = [1, 3];
    expect([0, 0.24, 0.25, 0.5, 0.99].map((r) => pickWeighted(weights, () => r))).toEqual([0, 0, 1, 1, 1]);
    expect([0.49, 0.5].map((r) => pickWeighted([0, 1], () => r))).toEqual([0, 1]);
    expect(pickWeighted([5], () => 0.999)).toBe(0);
  });

  test("over many picks the shares follow the weights", () => {
    const counts = [0, 0, 0];
    let seed = 42;
    const lcg = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < 6000; i++) counts[pickWeighted([1, 2, 3], lcg)]!++;
    expect(counts[0]! / 6000).toBeCloseTo(1 / 6, 1);
    expect(counts[1]! / 6000).toBeCloseTo(2 / 6, 1);
    expect(counts[2]! / 6000).toBeCloseTo(3 / 6, 1);
  });
});

describe("WeightedPool", () => {
  test("the weighted pick goes to children with a free slot only", async () => {
    const a = new FakeChild("a");
    const b = new FakeChild("b");
    // Weights 1:3 and a "random" that always lands on b's share: b until it is full, then a.
    const pool = new WeightedPool(
      "window_post",
      [
        { child: a, concurrent: 2, weight: 1 },
        { child: b, concurrent: 1, weight: 3 },
      ],
      sequence(0.9),
    );
    const first = pool.run("t1");
    await b.received(1);
    const second = pool.run("t2");
    await a.received(1);
    expect(pool.inflight).toEqual([1, 1]);
    b.calls[0]!.answer("from b");
    a.calls[0]!.answer("from a");
    expect(await first).toMatchObject({ output: "from b", index: 1 });
    expect(await second).toMatchObject({ output: "from a", index: 0 });
    expect(pool.inflight).toEqual([0, 0]);
  });

  test("Concurrent bounds each child; with every child full a task waits for the first slot that frees", async () => {
    const a = new FakeChild("a");
    const b = new FakeChild("b");
    const pool = new WeightedPool(
      "window_post",
      [
        { child: a, concurrent: 1, weight: 1 },
        { child: b, concurrent: 1, weight: 1 },
      ],
      sequence(0.1),
    );
    const t1 = pool.run("t1");
    await a.received(1);
    const t2 = pool.run("t2");
    await b.received(1);
    const t3 = pool.run("t3");
    // Both full: t3 waits, neither child gets a second call.
    expect(a.calls.length + b.calls.length).toBe(2);
    b.calls[0]!.answer("b1");
    await b.received(2);
    expect(a.calls.length).toBe(1);
    expect(b.calls[1]!.task).toBe("t3");
    b.calls[1]!.answer("b2");
    a.calls[0]!.answer("a1");
    expect((await Promise.all([t1, t2, t3])).map((r) => r.output)).toEqual(["a1", "b1", "b2"]);
  });

  test("a restarting child is skipped until it is ready again", async () => {
    const a = new FakeChild("a");
    const b = new FakeChild("b");
    a.isReady = false;
    const pool = new WeightedPool(
      "winning_post",
      [
        { child: a, concurrent: 1, weight: 100 },
        { child: b, concurrent: 1, weight: 1 },
      ],
      sequence(0),
    );
    const t1 = pool.run("t1");
    await b.received(1);
    const t2 = pool.run("t2");
    a.becomeReady();
    await a.received(1);
    a.calls[0]!.answer("a");
    b.calls[0]!.answer("b");
    expect((await t1).output).toBe("b");
    expect((await t2).output).toBe("a");
  });

  test("a child's error names the child; an abort stops the wait for a slot", async () => {
    const a = new FakeChild("a");
    const pool = new WeightedPool("window_post", [{ child: a, concurrent: 1, weight: 1 }]);
    const t1 = pool.run("t1");
    await a.received(1);
    const abort = new AbortController();
    const waiting = pool.run("t2", abort.signal);
    abort.abort(new Error("deadline passed"));
    await expect(waiting).rejects.toThrow("deadline passed");
    a.calls[0]!.fail(new Error("No cached parameters found"));
    const err = await t1.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChildTaskError);
    expect((err as ChildTaskError).index).toBe(0);
    expect((err as Error).message).toBe("No cached parameters found");
    // The aborted task never reached the child, and the slot is free again.
    const t3 = pool.run("t3");
    await a.received(2);
    expect(a.calls[1]!.task).toBe("t3");
    a.calls[1]!.answer("ok");
    expect((await t3).output).toBe("ok");
  });

  test("every child stopped: a clear error instead of waiting forever", async () => {
    const a = new FakeChild("a");
    a.isReady = false;
    a.isStopped = true;
    const pool = new WeightedPool("window_post", [{ child: a, concurrent: 1, weight: 1 }]);
    await expect(pool.run("t")).rejects.toThrow("every window_post child has stopped");
  });
});
