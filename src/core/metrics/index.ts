/**
 * A tiny Prometheus registry: counters, gauges and histograms with labels, rendered in the text
 * exposition format 0.0.4. Enough for /metrics without a dependency.
 */

export type Labels = Record<string, string | number>;

interface Metric {
  readonly name: string;
  readonly help: string;
  readonly type: "counter" | "gauge" | "histogram";
  render(): string[];
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function labelKey(labels: Labels | undefined): string {
  if (!labels) return "";
  const keys = Object.keys(labels).sort();
  return keys.map((k) => `${k}="${escapeLabel(String(labels[k]))}"`).join(",");
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

export class Counter implements Metric {
  readonly type = "counter";
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  inc(labels?: Labels, by = 1): void {
    if (by < 0) throw new RangeError(`counter ${this.name} cannot decrease`);
    const k = labelKey(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }

  get(labels?: Labels): number {
    return this.values.get(labelKey(labels)) ?? 0;
  }

  render(): string[] {
    return [...this.values].map(([k, v]) => `${this.name}${k ? `{${k}}` : ""} ${formatValue(v)}`);
  }
}

export class Gauge implements Metric {
  readonly type = "gauge";
  private values = new Map<string, number>();
  /** Called before each render, so a gauge can be computed from live state at scrape time. */
  collect?: (g: Gauge) => void;
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  set(value: number, labels?: Labels): void {
    this.values.set(labelKey(labels), value);
  }

  inc(labels?: Labels, by = 1): void {
    const k = labelKey(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }

  get(labels?: Labels): number {
    return this.values.get(labelKey(labels)) ?? 0;
  }

  reset(): void {
    this.values = new Map();
  }

  render(): string[] {
    this.collect?.(this);
    return [...this.values].map(([k, v]) => `${this.name}${k ? `{${k}}` : ""} ${formatValue(v)}`);
  }
}

interface HistogramSeries {
  labels: string;
  counts: number[];
  sum: number;
  count: number;
}

export class Histogram implements Metric {
  readonly type = "histogram";
  private readonly series = new Map<string, HistogramSeries>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {
    for (let i = 1; i < buckets.length; i++) {
      if (buckets[i]! <= buckets[i - 1]!) throw new RangeError(`histogram ${name}: buckets must increase`);
    }
  }

  observe(value: number, labels?: Labels): void {
    const k = labelKey(labels);
    let s = this.series.get(k);
    if (!s) {
      s = { labels: k, counts: new Array(this.buckets.length).fill(0), sum: 0, count: 0 };
      this.series.set(k, s);
    }
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }

  /** Count and sum of one series (tests, summaries). */
  stats(labels?: Labels): { count: number; sum: number } {
    const s = this.series.get(labelKey(labels));
    return { count: s?.count ?? 0, sum: s?.sum ?? 0 };
  }

  render(): string[] {
    const lines: string[] = [];
    for (const s of this.series.values()) {
      const sep = s.labels ? "," : "";
      for (const [i, b] of this.buckets.entries()) {
        lines.push(`${this.name}_bucket{${s.labels}${sep}le="${formatValue(b)}"} ${s.counts[i]}`);
      }
      lines.push(`${this.name}_bucket{${s.labels}${sep}le="+Inf"} ${s.count}`);
      lines.push(`${this.name}_sum${s.labels ? `{${s.labels}}` : ""} ${formatValue(s.sum)}`);
      lines.push(`${this.name}_count${s.labels ? `{${s.labels}}` : ""} ${s.count}`);
    }
    return lines;
  }
}

/** Milliseconds, 0.5 ms to 60 s: RPC latencies from a local cache hit to a proof verification. */
export const LATENCY_MS_BUCKETS = [
  0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000,
] as const;

export class MetricsRegistry {
  private readonly metrics = new Map<string, Metric>();
  constructor(readonly prefix = "") {}

  private add<M extends Metric>(metric: M): M {
    if (!NAME.test(metric.name)) throw new RangeError(`invalid metric name ${metric.name}`);
    if (this.metrics.has(metric.name)) throw new Error(`metric ${metric.name} is already registered`);
    this.metrics.set(metric.name, metric);
    return metric;
  }

  counter(name: string, help: string): Counter {
    return this.add(new Counter(this.prefix + name, help));
  }

  gauge(name: string, help: string): Gauge {
    return this.add(new Gauge(this.prefix + name, help));
  }

  histogram(name: string, help: string, buckets: readonly number[] = LATENCY_MS_BUCKETS): Histogram {
    return this.add(new Histogram(this.prefix + name, help, buckets));
  }

  /** The text exposition format; Content-Type: text/plain; version=0.0.4. */
  render(): string {
    const out: string[] = [];
    for (const m of this.metrics.values()) {
      out.push(`# HELP ${m.name} ${m.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`);
      out.push(`# TYPE ${m.name} ${m.type}`);
      out.push(...m.render());
    }
    return `${out.join("\n")}\n`;
  }
}

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
