import { expect, test } from "bun:test";
import { Semaphore, Staggered } from "./semaphore.ts";

test("at most N holders; waiters are served in order", async () => {
  const s = new Semaphore(2);
  const order: number[] = [];
  const r1 = await s.acquire();
  const r2 = await s.acquire();
  expect(s.tryAcquire()).toBeUndefined();
  const queued = (n: number) =>
    s.acquire().then((r) => {
      order.push(n);
      return r;
    });
  const w3 = queued(3);
  const w4 = queued(4);
  r1();
  r1(); // double release is harmless
  const r3 = await w3;
  expect(s.inUse).toBe(2);
  r2();
  const r4 = await w4;
  expect(order).toEqual([3, 4]);
  r3();
  r4();
  expect(s.inUse).toBe(0);
});

test("an aborted waiter leaves the queue without taking a slot", async () => {
  const s = new Semaphore(1);
  const r = await s.acquire();
  const ac = new AbortController();
  const waiting = s.acquire(ac.signal);
  ac.abort(new Error("stop"));
  await expect(waiting).rejects.toThrow("stop");
  r();
  expect(s.free).toBe(1);
});

test("staggered starts are spaced by the interval, in arrival order", async () => {
  const now = 1000;
  const st = new Staggered(50, () => now);
  const t0 = performance.now();
  await st.wait(); // first start is immediate
  const second = st.wait();
  const third = st.wait();
  await second;
  await third;
  // Two further starts need two intervals of real waiting (the clock stub only sets the schedule).
  expect(performance.now() - t0).toBeGreaterThanOrEqual(95);
});
