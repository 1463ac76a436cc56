import type * as PromClient from 'prom-client';
import type { Registry } from 'prom-client';
import { ERROR_STATUS } from '../core/errors';
import { checkKnownOptions, OptionsError } from '../core/options';
import { requirePeer } from '../core/peer';
import type { PasswordEvent, PasswordEventType } from '../types';

requirePeer('prom-client', 'metrics');
// Loaded after requirePeer, which names the package to install when it is missing.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- an optional peer
const { Counter, Histogram, Registry: PromRegistry } = require('prom-client') as typeof PromClient;

/** Options of `createPasswordMetrics(...)`. */
export interface PasswordMetricsOptions {
  /**
   * The prom-client registry the metrics are registered in, e.g. the one the host already serves.
   * Default: a new `Registry` of their own (never prom-client's global one).
   */
  readonly registry?: Registry;
  /** Prefix of every metric name. Default `'metadata_password_'`. */
  readonly prefix?: string;
}

/** Prometheus metrics of the password events; see `createPasswordMetrics`. */
export interface PasswordMetrics {
  /**
   * Counts one event: pass it every event of the service's `onEvent`, next to the host's own audit
   * sink: `onEvent: (e) => { audit(e); metrics.onEvent(e); }`.
   */
  readonly onEvent: (event: PasswordEvent) => void;
  /** The registry holding the metrics: serve `await registry.metrics()` as `registry.contentType`. */
  readonly registry: Registry;
}

const WHERE = 'createPasswordMetrics()';
const DEFAULT_PREFIX = 'metadata_password_';
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/**
 * Upper bounds, in seconds, of the store call histogram: from half a millisecond (an embedded or
 * nearby store) to past the stores' 2 s default timeout.
 */
const STORE_DURATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** The reasons counted as they are: the package's error codes and `overwrite`; a bounded set. */
const COUNTED_REASONS: ReadonlySet<string> = new Set([...Object.keys(ERROR_STATUS), 'overwrite']);

/** The event types that carry no reason in the usual case, whose series start at 0. */
const REASONLESS_TYPES: readonly PasswordEventType[] = [
  'password.set',
  'password.read',
  'password.conflict',
  'password.cleared',
  'store.unavailable',
];

/**
 * Prometheus metrics (prom-client, an optional peer) of a `PasswordService`'s events:
 *
 * - `<prefix>events_total`, a counter of events by `type` (`password.set`, `password.read`, ...) and
 *   `reason`. The reason is kept when it is one of the package's error codes (`INVALID_PASSWORD`,
 *   `FORBIDDEN`, ...) or `overwrite`; any other, notably the store's error message that
 *   `store.unavailable` carries, is counted under the empty reason, so the number of series stays
 *   bounded.
 * - `<prefix>store_duration_seconds`, a histogram of the store call behind each event that has one
 *   (its `durationMs`), by event `type`.
 *
 * No label carries an instance id or principal. Registering twice in one registry throws (the names
 * are taken): create one per registry and share it.
 */
export function createPasswordMetrics(options: PasswordMetricsOptions = {}): PasswordMetrics {
  checkKnownOptions(WHERE, options, ['registry', 'prefix']);
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  if (typeof prefix !== 'string' || (prefix !== '' && !METRIC_NAME.test(prefix))) {
    throw new OptionsError(
      'ERR_INVALID_OPTION',
      `${WHERE}: \`prefix\` must be empty or start a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*), e.g. '${DEFAULT_PREFIX}'.`,
    );
  }
  const registry = options.registry ?? new PromRegistry();
  if (typeof (registry as Partial<Registry> | null)?.registerMetric !== 'function') {
    throw new OptionsError('ERR_INVALID_OPTION', `${WHERE}: \`registry\` must be a prom-client Registry.`);
  }

  const events = new Counter({
    name: `${prefix}events_total`,
    help: 'Instance password events, by type and reason (an error code, overwrite, or empty).',
    labelNames: ['type', 'reason'] as const,
    registers: [registry],
  });
  const storeDuration = new Histogram({
    name: `${prefix}store_duration_seconds`,
    help: 'Duration of the password store call behind each event, in seconds, by event type.',
    labelNames: ['type'] as const,
    buckets: STORE_DURATION_BUCKETS,
    registers: [registry],
  });
  for (const type of REASONLESS_TYPES) events.inc({ type, reason: '' }, 0);

  const onEvent = (event: PasswordEvent): void => {
    const reason = event.reason !== undefined && COUNTED_REASONS.has(event.reason) ? event.reason : '';
    events.inc({ type: event.type, reason });
    if (typeof event.durationMs === 'number') storeDuration.observe({ type: event.type }, event.durationMs / 1000);
  };
  return { onEvent, registry };
}
