import { STORED_PASSWORD } from './fixtures';
import { freshPost, guestGet, type Scenario } from './scenarios';

/** Largest acceptable subject/baseline p99, as for the keep-alive rows. */
const P99_RATIO = 1.2;

/**
 * Rows where every request comes on a new connection, as guest agents (cloudbase-init) and metadata
 * proxies connect: one process per side, pinned away from the load generator.
 */
export const CONNECTION_SCENARIOS: readonly Scenario[] = [
  {
    id: 'guest-get-close',
    title: 'guest GET, a connection per request',
    backend: 'memory',
    subject: 'router',
    baseline: 'express',
    connection: 'close',
    pinned: true,
    request: guestGet,
    expectedStatus: 200,
    expectedBody: STORED_PASSWORD,
    minThroughputRatio: 0.98,
    maxP99Ratio: P99_RATIO,
  },
  {
    id: 'guest-post-close',
    title: 'guest POST, a fresh instance and a connection per request',
    backend: 'memory',
    subject: 'router',
    baseline: 'express',
    connection: 'close',
    pinned: true,
    fresh: true,
    request: freshPost,
    expectedStatus: 200,
    expectedBody: '',
    minThroughputRatio: 0.98,
    maxP99Ratio: P99_RATIO,
  },
  {
    id: 'node-http-get-close',
    title: 'bare node:http, guest GET, a connection per request',
    backend: 'memory',
    subject: 'node-http',
    baseline: 'express',
    connection: 'close',
    pinned: true,
    request: guestGet,
    expectedStatus: 200,
    expectedBody: STORED_PASSWORD,
  },
  {
    id: 'node-http-post-close',
    title: 'bare node:http, guest POST, a connection per request',
    backend: 'memory',
    subject: 'node-http',
    baseline: 'express',
    connection: 'close',
    pinned: true,
    fresh: true,
    request: freshPost,
    expectedStatus: 200,
    expectedBody: '',
  },
];

/**
 * How the cluster example shares its port among one worker per core: node:cluster's round-robin
 * against the kernel's distribution (`SCHED_NONE`), and against one process. Not pinned: the load
 * generator shares the cores with the workers, the same for both sides.
 */
export const SCALING_SCENARIOS: readonly Scenario[] = [
  {
    id: 'cluster-close',
    title: 'guest GET, a connection per request, SCHED_NONE vs round-robin',
    backend: 'memory',
    subject: { side: 'router', processes: 'cores', scheduling: 'none' },
    baseline: { side: 'router', processes: 'cores', scheduling: 'rr' },
    connection: 'close',
    request: guestGet,
    expectedStatus: 200,
    expectedBody: STORED_PASSWORD,
  },
  {
    id: 'cluster-keep-alive',
    title: 'guest GET, keep-alive, SCHED_NONE vs round-robin',
    backend: 'memory',
    subject: { side: 'router', processes: 'cores', scheduling: 'none' },
    baseline: { side: 'router', processes: 'cores', scheduling: 'rr' },
    request: guestGet,
    expectedStatus: 200,
    expectedBody: STORED_PASSWORD,
  },
  {
    id: 'cluster-close-vs-one',
    title: 'guest GET, a connection per request, the cluster vs one process',
    backend: 'memory',
    subject: { side: 'router', processes: 'cores' },
    baseline: 'router',
    connection: 'close',
    request: guestGet,
    expectedStatus: 200,
    expectedBody: STORED_PASSWORD,
  },
];
