import type { StormReport } from './boot-storm';
import type { ScenarioReport } from './table';

const range = (values: readonly number[], unit = ''): string => {
  const sorted = [...values].sort((a, b) => a - b);
  const [low, high] = [sorted[0].toFixed(2), sorted[sorted.length - 1].toFixed(2)];
  return low === high ? `${low}${unit}` : `${low} to ${high}${unit}`;
};

/**
 * The one-sentence summary of a full run, for README.md's performance paragraph and the top of
 * bench/README.md's results, made from the same reports as the tables so that it always matches them.
 */
export function summarySentence(reports: readonly ScenarioReport[], storm: StormReport | undefined): string {
  const ratio = (ids: readonly string[]) => reports.filter((report) => ids.includes(report.id)).map((report) => report.throughputRatio);
  const parts: string[] = [];
  const memory = ratio(['guest-get', 'guest-post', 'guest-post-409', 'owner-get']);
  if (memory.length > 0) parts.push(`the routers serve ${range(memory)} of the hand-written Express route's throughput on MemoryStore`);
  const stores = ratio(['guest-get-redis', 'guest-post-redis', 'guest-get-postgres', 'guest-post-postgres']);
  if (stores.length > 0) parts.push(`${range(stores)} on Redis and PostgreSQL`);
  const keepAlive = ratio(['nova-gthread-keep-alive-one', 'nova-gthread-keep-alive-cores']);
  const closing = ratio(['nova-sync-close-one', 'nova-gthread-close-one', 'nova-sync-close-cores', 'nova-gthread-close-cores']);
  if (keepAlive.length > 0 && closing.length > 0) {
    parts.push(`${range(keepAlive, 'x')} Nova's own handler with kept connections and ${range(closing, 'x')} with a connection per request`);
  }
  const capacities = storm?.configurations.flatMap((config) => (config.router ? [config.router.capacityRatio] : [])) ?? [];
  if (capacities.length > 0) {
    parts.push(`and a boot storm (instances that GET then POST, a new connection each) finds ${range(capacities, 'x')} Nova's capacity at a p99 within ${storm?.p99LimitMs} ms`);
  }
  const last = parts.length > 1 && !parts[parts.length - 1].startsWith('and ') ? [...parts.slice(0, -1), `and ${parts[parts.length - 1]}`] : parts;
  return `On a quiet 2-core machine ${last.join(', ')}.`;
}
