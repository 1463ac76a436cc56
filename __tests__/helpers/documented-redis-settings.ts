import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import type { ClusterOptions, RedisOptions } from 'ioredis';

/**
 * The ioredis settings docs/stores.md recommends, read from the doc itself so that the failover
 * suites run exactly what users are told to write. Every place the doc shows a client's settings
 * must show the same ones.
 */
const STORES_DOC = join(__dirname, '..', '..', 'docs', 'stores.md');

/** The object literal that starts at `text[start]` (a `{`), braces balanced. */
function objectLiteralAt(text: string, start: number): string {
  let depth = 0;
  for (let index = start; index < text.length; index++) {
    if (text[index] === '{') depth++;
    if (text[index] === '}' && --depth === 0) return text.slice(start, index + 1);
  }
  throw new Error(`docs/stores.md: an unclosed object literal at offset ${start}`);
}

/**
 * Evaluates every object literal that follows `opening` in the doc (in a context that only knows
 * `names`), and checks that they all agree once `names` are left out.
 */
function documentedObject(opening: RegExp, names: readonly string[]): Record<string, unknown> {
  const doc = readFileSync(STORES_DOC, 'utf8');
  const placeholders = Object.fromEntries(names.map((name) => [name, `<${name}>`]));
  const found = [...doc.matchAll(new RegExp(opening.source, 'g'))].map((match) => {
    const literal = objectLiteralAt(doc, (match.index ?? 0) + match[0].length);
    const value = runInNewContext(`(${literal})`, { ...placeholders }) as Record<string, unknown>;
    return Object.fromEntries(Object.entries(value).filter(([key]) => !names.includes(key)));
  });
  if (found.length === 0) throw new Error(`docs/stores.md shows no ${opening.source}: the failover suites read their settings from it`);
  for (const other of found.slice(1)) expect(other).toEqual(found[0]);
  return found[0];
}

/** What the doc writes as `new Cluster(nodes, { ... })`. */
export function documentedClusterOptions(): ClusterOptions {
  return documentedObject(/new Cluster\(\s*nodes,\s*/, []) as ClusterOptions;
}

/** What the doc writes as `new Redis({ sentinels, name, ... })`, without `sentinels` and `name`. */
export function documentedSentinelOptions(): RedisOptions {
  return documentedObject(/new Redis\(\s*(?=\{\s*sentinels\b)/, ['sentinels', 'name']);
}
