// The service's one Prometheus registry and the `GET /metrics` route.
// Every part (callbacks, business API, workflow activities) registers its metrics on the same
// ServiceMetrics instance through counter()/gauge()/histogram(): asking twice for the same name
// returns the metric already registered, so a plugin registered on a second app (tests) or a
// module imported twice never fails with "metric already registered".
import { timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync, FastifySchema } from 'fastify';
import { errorAnswer } from './errors';
import { sha256Digest } from '../lib/hash';
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

export interface MetricsRouteOptions {
  metrics: ServiceMetrics;
  /**
   * METRICS_TOKEN: when set, the route answers only `Authorization: Bearer <token>` (401 otherwise,
   * in the business API's error shape); unset, it is open (sandbox, or a port only a scraper reaches).
   */
  token?: string;
}

/** `GET /metrics` in Prometheus text format. */
export const metricsRoutes: FastifyPluginAsync<MetricsRouteOptions> = async (app, { metrics, token }) => {
  const expected = token === undefined ? undefined : sha256Digest(token);
  const schema: FastifySchema = {
    tags: ['operations'],
    summary: 'Prometheus metrics (text format)',
    description: 'With METRICS_TOKEN set, only with `Authorization: Bearer <METRICS_TOKEN>`.',
    response: {
      200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: { type: 'string' } } } },
      401: errorAnswer('METRICS_TOKEN is set and the request does not carry it'),
    },
  };
  app.get('/metrics', { schema }, async (req, reply) => {
    if (expected !== undefined) {
      const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(req.headers.authorization ?? '');
      if (!match?.[1] || !timingSafeEqual(sha256Digest(match[1]), expected)) {
        return reply
          .code(401)
          .header('www-authenticate', 'Bearer realm="evrotrust-signing-metrics"')
          .send({ error: 'unauthorized', message: 'send the metrics token as "Authorization: Bearer <METRICS_TOKEN>"' });
      }
    }
    const body = await metrics.text();
    return reply.header('content-type', metrics.contentType).send(body);
  });
};
