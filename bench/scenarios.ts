import {
  ciphertext,
  CIPHERTEXT_FOR_KEY,
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
 * Who answers: the package's routers (with their default headers, with `helmet: false`, or with the
 * instance's `publicKey` from `lookupInstance`), the
 * same work written by hand in Express, bare node:http, or Nova's own metadata handler under
 * gunicorn's sync or gthread workers (the optional peer, `--peer nova`).
 */
export type Side =
  | 'router'
  | 'router-no-helmet'
  | 'router-public-key'
  | 'express'
  | 'node-http'
  | 'nova-sync'
  | 'nova-gthread';

/**
 * How several Node processes share one port: node:cluster's round-robin (the primary accepts every
 * connection and hands it to a worker) or `SCHED_NONE` (every worker accepts on the shared socket,
 * the kernel picks which).
 */
export type Scheduling = 'rr' | 'none';

/** A side and how many processes it runs: one (the default), or one per core (`'cores'`). */
export interface ServerSetup {
  readonly side: Side;
  readonly processes?: 1 | 'cores';
  /** For Node sides with several processes; the default is examples/cluster.ts's own. */
  readonly scheduling?: Scheduling;
}

/** What examples/cluster.ts uses on Linux unless NODE_CLUSTER_SCHED_POLICY says otherwise. */
export const CLUSTER_SCHEDULING: Scheduling = 'none';

/** `side` with its defaults: one process; several share the port as examples/cluster.ts does. */
export function setupOf(side: Side | ServerSetup): Required<ServerSetup> {
  const setup = typeof side === 'string' ? { side } : side;
  return { processes: 1, scheduling: CLUSTER_SCHEDULING, ...setup };
}

/** A side's name in the table: `router`, `router ×cores none`, `nova-sync ×cores`. */
export function sideLabel(side: Side | ServerSetup): string {
  const { side: name, processes, scheduling } = setupOf(side);
  if (processes === 1) return name;
  return name.startsWith('nova') ? `${name} ×${processes}` : `${name} ×${processes} ${scheduling}`;
}

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
  readonly subject: Side | ServerSetup;
  readonly baseline: Side | ServerSetup;
  /**
   * `'keep-alive'` (the default): autocannon on kept connections; `'close'`: a new connection per
   * request (bench/closing-load.ts), as guest agents and metadata proxies connect.
   */
  readonly connection?: 'keep-alive' | 'close';
  /**
   * One-process pairs on a machine of two or more cores: the load generator runs on core 0 and the
   * servers on core 1, so neither side's server shares its core with the client.
   */
  readonly pinned?: boolean;
  /** A scenario with an optional peer, run only when asked for (`--peer nova`). */
  readonly peer?: 'nova';
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

const P99_RATIO = 1.1;
/** The routers' MemoryStore rows must cost nothing next to the hand-written route. */
const GUEST_RATIO = 1.0;
/** The rows on Redis and PostgreSQL, where the client's own cost is most of an answer's. */
const STORE_RATIO = 0.95;

export const guestGet = (): BenchRequest => ({ method: 'GET', path: GUEST_PATH, headers: guestHeaders(INSTANCE_ID) });

// One ciphertext for every POST: the value is still checked on every request.
const postedValue = ciphertext();
const postHeaders = { 'content-type': 'application/x-www-form-urlencoded' };
// A run-unique prefix keeps fresh instance ids fresh across the rounds of both sides.
const freshPrefix = `bench-${process.pid}-${Date.now().toString(36)}`;
let freshCount = 0;
/** A guest POST for an instance that has no password yet. */
export const freshPost = (): BenchRequest => ({
  method: 'POST',
  path: GUEST_PATH,
  headers: { ...postHeaders, ...guestHeaders(`${freshPrefix}-${++freshCount}`) },
  body: postedValue,
});

/** The guest GET and a guest POST for a fresh instance on a shared store, both sides on the same client. */
function storeRows(backend: 'redis' | 'postgres', store: string): Scenario[] {
  const row = { backend, subject: 'router', baseline: 'express', expectedStatus: 200, minThroughputRatio: STORE_RATIO, maxP99Ratio: P99_RATIO } as const;
  return [
    { ...row, id: `guest-get-${backend}`, title: `guest GET, ${store}`, request: guestGet, expectedBody: STORED_PASSWORD },
    { ...row, id: `guest-post-${backend}`, title: `guest POST, a fresh instance each, ${store}`, fresh: true, request: freshPost, expectedBody: '' },
  ];
}

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
    minThroughputRatio: GUEST_RATIO,
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
    request: freshPost,
    expectedStatus: 200,
    expectedBody: '',
    minThroughputRatio: GUEST_RATIO,
    maxP99Ratio: P99_RATIO,
  },
  {
    id: 'guest-post-public-key',
    title: "guest POST checked against the instance's publicKey",
    backend: 'memory',
    subject: 'router-public-key',
    baseline: 'express',
    fresh: true,
    request: () => ({ ...freshPost(), body: CIPHERTEXT_FOR_KEY }),
    expectedStatus: 200,
    expectedBody: '',
    minThroughputRatio: GUEST_RATIO,
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
    minThroughputRatio: GUEST_RATIO,
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
    minThroughputRatio: GUEST_RATIO,
    maxP99Ratio: P99_RATIO,
  },


  ...storeRows('redis', 'RedisStore'),
  {
    id: 'guest-post-redis-replicas',
    title: 'guest POST as above, RedisStore `minReplicas: 1` (private primary + replica)',
    backend: 'redis-replicas',
    subject: 'router',
    baseline: 'express',
    fresh: true,
    request: freshPost,
    expectedStatus: 200,
    expectedBody: '',
  },


  ...storeRows('postgres', 'PostgresStore'),
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
