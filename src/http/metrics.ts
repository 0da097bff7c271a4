// The service's one Prometheus registry and the `GET /metrics` route.
// Every part (callbacks, business API, workflow activities) registers its metrics on the same
// ServiceMetrics instance through counter()/gauge()/histogram(): asking twice for the same name
// returns the metric already registered, so a plugin registered on a second app (tests) or a
// module imported twice never fails with "metric already registered".
import type { FastifyPluginAsync } from 'fastify';
import {
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  Registry,
  type CounterConfiguration,
  type GaugeConfiguration,
  type HistogramConfiguration,
  type Metric,
} from 'prom-client';

export class MetricTypeError extends Error {
  override readonly name = 'MetricTypeError';
  constructor(metricName: string, wanted: string) {
    super(`metric ${metricName} is already registered with another type than ${wanted}`);
  }
}

export interface ServiceMetricsOptions {
  /** Node.js process metrics (CPU, memory, event loop lag); default true. */
  defaultMetrics?: boolean;
  /** Labels added to every metric of this registry, e.g. { instance: 'a' }. */
  defaultLabels?: Record<string, string>;
}

export class ServiceMetrics {
  readonly registry = new Registry();

  constructor(options: ServiceMetricsOptions = {}) {
    if (options.defaultLabels) this.registry.setDefaultLabels(options.defaultLabels);
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  counter<T extends string>(config: Omit<CounterConfiguration<T>, 'registers'>): Counter<T> {
    return this.existing(config.name, Counter, 'counter') ?? new Counter<T>({ ...config, registers: [this.registry] });
  }

  gauge<T extends string>(config: Omit<GaugeConfiguration<T>, 'registers'>): Gauge<T> {
    return this.existing(config.name, Gauge, 'gauge') ?? new Gauge<T>({ ...config, registers: [this.registry] });
  }

  histogram<T extends string>(config: Omit<HistogramConfiguration<T>, 'registers'>): Histogram<T> {
    return this.existing(config.name, Histogram, 'histogram') ?? new Histogram<T>({ ...config, registers: [this.registry] });
  }

  /** The Prometheus text exposition of everything registered. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private existing<M extends Metric>(name: string, kind: abstract new (...args: never[]) => M, wanted: string): M | undefined {
    const found = this.registry.getSingleMetric(name);
    if (found === undefined) return undefined;
    if (!(found instanceof kind)) throw new MetricTypeError(name, wanted);
    return found;
  }
}

/** `GET /metrics` in Prometheus text format. */
export const metricsRoutes: FastifyPluginAsync<{ metrics: ServiceMetrics }> = async (app, { metrics }) => {
  app.get('/metrics', async (_req, reply) => {
    const body = await metrics.text();
    return reply.header('content-type', metrics.contentType).send(body);
  });
};
