// The callback endpoint's and the relay's metrics, on the service's one registry.
import type { Counter, Gauge, Histogram } from 'prom-client';
import type { ServiceMetrics } from '../http/metrics';

export type RejectReason =
  | 'forbidden'
  | 'forbidden-token'
  | 'bad-json'
  | 'too-large'
  | 'unsupported-media-type'
  | 'invalid'
  | 'store-unavailable'
  | 'not-found'
  | 'internal';

export type DeliveryResult = 'delivered' | 'retry' | 'signing-final' | 'workflow-closed' | 'token-mismatch' | 'unknown-transaction';

export interface CallbackMetrics {
  /** Valid callbacks answered 200: `stored` the first time, `duplicate` for a repeat. */
  received: Counter<'suffix' | 'outcome'>;
  rejected: Counter<'reason'>;
  /** Time from the request's arrival to the answer, for every answer of the callback routes. */
  ackSeconds: Histogram<'code'>;
  /** Time from receipt to the workflow signal. */
  deliveryLagSeconds: Histogram;
  /** Delivery attempts by what came of them. */
  deliveries: Counter<'result'>;
  /** Callbacks stored but not delivered yet and still being retried (set by the relay's sweep). */
  undelivered: Gauge;
}

export function callbackMetrics(metrics: ServiceMetrics): CallbackMetrics {
  return {
    received: metrics.counter({
      name: 'evrotrust_callbacks_received_total',
      help: 'Valid Evrotrust callbacks acknowledged with 200, by route suffix and whether they were new or a repeat',
      labelNames: ['suffix', 'outcome'],
    }),
    rejected: metrics.counter({
      name: 'evrotrust_callbacks_rejected_total',
      help: 'Callback requests answered with an error, by reason',
      labelNames: ['reason'],
    }),
    ackSeconds: metrics.histogram({
      name: 'evrotrust_callback_ack_seconds',
      help: 'Time from receiving a callback request to answering it',
      labelNames: ['code'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    }),
    deliveryLagSeconds: metrics.histogram({
      name: 'evrotrust_callback_delivery_lag_seconds',
      help: 'Time from storing a callback to signalling its workflow',
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 21600, 86400],
    }),
    deliveries: metrics.counter({
      name: 'evrotrust_callback_deliveries_total',
      help: 'Callback delivery attempts by result',
      labelNames: ['result'],
    }),
    undelivered: metrics.gauge({
      name: 'evrotrust_callbacks_undelivered',
      help: 'Stored callbacks still waiting to be delivered to their workflow',
    }),
  };
}
