import {
  ciphertext,
  CONFLICT_BODY,
  GUEST_PATH,
  guestHeaders,
  INSTANCE_ID,
  OWNER_PATH,
  OWNER_TOKEN,
  STORED_PASSWORD,
} from './fixtures';

/** Where a server keeps passwords. */
export type Backend = 'memory' | 'redis' | 'redis-replicas' | 'postgres';

/**
 * Who answers: the package's routers (with helmet's default headers, or with `helmet: false`), the
 * same work written by hand in Express, or bare node:http.
 */
export type Side = 'router' | 'router-no-helmet' | 'express' | 'node-http';

/** One request as the load generator sends it. */
export interface BenchRequest {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
}

export interface Scenario {
  readonly id: string;
  readonly title: string;
  readonly backend: Backend;
  /** The side measured against `baseline`. */
  readonly subject: Side;
  readonly baseline: Side;
  /** Called once per request when `fresh` is set, else once for the whole run. */
  readonly request: () => BenchRequest;
  readonly fresh?: boolean;
  readonly expectedStatus: number;
  /** The body every side must answer with; checked once before the load. */
  readonly expectedBody: string;
  /** Least acceptable subject/baseline throughput; undefined where the pair has no target. */
  readonly minThroughputRatio?: number;
  /** Largest acceptable subject/baseline p99 latency. */
  readonly maxP99Ratio?: number;
}

const P99_RATIO = 1.2;

const guestGet = (): BenchRequest => ({ method: 'GET', path: GUEST_PATH, headers: guestHeaders(INSTANCE_ID) });

// One ciphertext for every POST: the value is still checked on every request.
const postedValue = ciphertext();
const postHeaders = { 'content-type': 'application/x-www-form-urlencoded' };
// A run-unique prefix keeps fresh instance ids fresh across the rounds of both sides.
const freshPrefix = `bench-${process.pid}-${Date.now().toString(36)}`;
let freshCount = 0;
const freshGuestPost = (): BenchRequest => ({
  method: 'POST',
  path: GUEST_PATH,
  headers: { ...postHeaders, ...guestHeaders(`${freshPrefix}-${++freshCount}`) },
  body: postedValue,
});

export const SCENARIOS: readonly Scenario[] = [
  {
    id: 'guest-get',
    title: 'guest GET, signed proxy, MemoryStore',
    backend: 'memory',
    subject: 'router',
    baseline: 'express',
    request: guestGet,
    expectedStatus: 200,
    expectedBody: STORED_PASSWORD,
    minThroughputRatio: 0.9,
    maxP99Ratio: P99_RATIO,
  },
  {
    id: 'guest-get-no-helmet',
    title: 'guest GET as above, router with `helmet: false`',
    backend: 'memory',
    subject: 'router-no-helmet',
    baseline: 'express',
    request: guestGet,
    expectedStatus: 200,
    expectedBody: STORED_PASSWORD,
  },
  {
    id: 'guest-post',
    title: 'guest POST, a fresh instance each',
    backend: 'memory',
    subject: 'router',
    baseline: 'express',
    fresh: true,
    request: () => ({
      method: 'POST',
      path: GUEST_PATH,
      headers: { ...postHeaders, ...guestHeaders(`${freshPrefix}-${++freshCount}`) },
      body: postedValue,
    }),
    expectedStatus: 200,
    expectedBody: '',
    minThroughputRatio: 0.85,
    maxP99Ratio: P99_RATIO,
  },
  {
    id: 'guest-post-409',
    title: 'guest POST answered 409',
    backend: 'memory',
    subject: 'router',
    baseline: 'express',
    request: () => ({
      method: 'POST',
      path: GUEST_PATH,
      headers: { ...postHeaders, ...guestHeaders(INSTANCE_ID) },
      body: postedValue,
    }),
    expectedStatus: 409,
    expectedBody: CONFLICT_BODY,
    minThroughputRatio: 0.85,
    maxP99Ratio: P99_RATIO,
  },
  {
    id: 'owner-get',
    title: 'owner GET, X-Auth-Token',
    backend: 'memory',
    subject: 'router',
    baseline: 'express',
    request: () => ({ method: 'GET', path: OWNER_PATH, headers: { 'x-auth-token': OWNER_TOKEN } }),
    expectedStatus: 200,
    expectedBody: JSON.stringify({ password: STORED_PASSWORD }),
    minThroughputRatio: 0.9,
    maxP99Ratio: P99_RATIO,
  },
  {
    id: 'guest-get-redis',
    title: 'guest GET, RedisStore',
    backend: 'redis',
    subject: 'router',
    baseline: 'express',
    request: guestGet,
    expectedStatus: 200,
    expectedBody: STORED_PASSWORD,
    minThroughputRatio: 0.9,
    maxP99Ratio: P99_RATIO,
  },
  {
    id: 'guest-post-redis',
    title: 'guest POST, a fresh instance each, RedisStore',
    backend: 'redis',
    subject: 'router',
    baseline: 'express',
    fresh: true,
    request: freshGuestPost,
    expectedStatus: 200,
    expectedBody: '',
  },
  {
    id: 'guest-post-redis-replicas',
    title: 'guest POST as above, RedisStore `minReplicas: 1` (private primary + replica)',
    backend: 'redis-replicas',
    subject: 'router',
    baseline: 'express',
    fresh: true,
    request: freshGuestPost,
    expectedStatus: 200,
    expectedBody: '',
  },
  {
    id: 'guest-get-postgres',
    title: 'guest GET, PostgresStore',
    backend: 'postgres',
    subject: 'router',
    baseline: 'express',
    request: guestGet,
    expectedStatus: 200,
    expectedBody: STORED_PASSWORD,
    minThroughputRatio: 0.9,
    maxP99Ratio: P99_RATIO,
  },
  {
    id: 'node-http-floor',
    title: 'bare node:http, same work as guest GET',
    backend: 'memory',
    subject: 'node-http',
    baseline: 'express',
    request: guestGet,
    expectedStatus: 200,
    expectedBody: STORED_PASSWORD,
  },
];
