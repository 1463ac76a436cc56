/**
 * `GET /metrics` for examples/cluster.ts: the worker that receives the scrape asks the primary, whose
 * prom-client `AggregatorRegistry` collects every worker's registry and sums them, so one scrape of
 * the shared port sees the whole cluster.
 */
import cluster from 'node:cluster';
import type { RequestHandler, Response } from 'express';
import { AggregatorRegistry, type Registry } from 'prom-client';

const SCRAPE = 'express-metadata-password:scrape';
const SCRAPED = 'express-metadata-password:scraped';

interface ScrapeMessage {
  readonly type: typeof SCRAPE;
  readonly id: number;
}

interface ScrapedMessage {
  readonly type: typeof SCRAPED;
  readonly id: number;
  readonly text?: string;
  readonly error?: string;
}

/** In the primary: answers the workers' scrapes with the metrics of all workers. */
export function aggregateWorkerMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message: Partial<ScrapeMessage>) => {
    if (message?.type !== SCRAPE || typeof message.id !== 'number') return;
    const { id } = message;
    aggregator.clusterMetrics().then(
      (text) => worker.send({ type: SCRAPED, id, text } satisfies ScrapedMessage),
      (error: Error) => worker.send({ type: SCRAPED, id, error: error.message } satisfies ScrapedMessage),
    );
  });
}

/** In a worker: reports `registry` to the primary and serves the cluster's metrics. */
export function clusterMetricsHandler(registry: Registry): RequestHandler {
  AggregatorRegistry.setRegistries([registry]);
  // Constructing one is what makes prom-client answer the primary's requests in this worker.
  new AggregatorRegistry();
  const waiting = new Map<number, Response>();
  let nextId = 0;
  process.on('message', (message: Partial<ScrapedMessage>) => {
    if (message?.type !== SCRAPED || typeof message.id !== 'number') return;
    const res = waiting.get(message.id);
    if (!res) return;
    waiting.delete(message.id);
    if (message.error !== undefined) res.status(503).type('text/plain').send(`metrics unavailable: ${message.error}\n`);
    else res.type(AggregatorRegistry.PROMETHEUS_CONTENT_TYPE).send(message.text);
  });
  return (_req, res) => {
    const id = nextId++;
    waiting.set(id, res);
    process.send?.({ type: SCRAPE, id } satisfies ScrapeMessage);
  };
}
