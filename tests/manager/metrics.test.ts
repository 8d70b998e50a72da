import { describe, expect, test } from "bun:test";
import { MetricsRegistry } from "../../src/core/metrics/index.ts";

describe("Prometheus text exposition", () => {
  test("counters, gauges and histograms with labels", () => {
    const r = new MetricsRegistry("damocles_manager_");
    const c = r.counter("new_sector", "sectors allocated");
    c.inc({ miner: 1000 });
    c.inc({ miner: 1000 }, 2);
    const g = r.gauge("thread_count", "threads");
    g.collect = (x) => x.set(3, { category: 'we"ird\\' });
    const h = r.histogram("api_request_duration_ms", "latency", [1, 10]);
    h.observe(0.5, { endpoint: "Venus.AllocateSector" });
    h.observe(5, { endpoint: "Venus.AllocateSector" });
    h.observe(50, { endpoint: "Venus.AllocateSector" });
    const text = r.render();
    expect(text).toContain("# TYPE damocles_manager_new_sector counter\n");
    expect(text).toContain('damocles_manager_new_sector{miner="1000"} 3\n');
    expect(text).toContain('damocles_manager_thread_count{category="we\\"ird\\\\"} 3\n');
    expect(text).toContain(
      'damocles_manager_api_request_duration_ms_bucket{endpoint="Venus.AllocateSector",le="1"} 1\n',
    );
    expect(text).toContain(
      'damocles_manager_api_request_duration_ms_bucket{endpoint="Venus.AllocateSector",le="10"} 2\n',
    );
    expect(text).toContain(
      'damocles_manager_api_request_duration_ms_bucket{endpoint="Venus.AllocateSector",le="+Inf"} 3\n',
    );
    expect(text).toContain('damocles_manager_api_request_duration_ms_count{endpoint="Venus.AllocateSector"} 3\n');
    expect(text).toContain('damocles_manager_api_request_duration_ms_sum{endpoint="Venus.AllocateSector"} 55.5\n');
    expect(() => c.inc(undefined, -1)).toThrow("cannot decrease");
    expect(() => r.counter("new_sector", "again")).toThrow("already registered");
  });
});
