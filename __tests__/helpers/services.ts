import { spawnSync } from 'node:child_process';

/** The Redis server integration suites use: `REDIS_URL`, default the local one. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** The PostgreSQL database integration suites use: `DATABASE_URL`, default the local `test`. */
export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const PROBE = `
const net = require('node:net');
const url = new URL(process.argv[1]);
const socket = net.connect(Number(url.port), url.hostname || '127.0.0.1');
socket.setTimeout(2000, () => process.exit(1));
socket.on('connect', () => process.exit(0));
socket.on('error', () => process.exit(1));
`;

function reachable(url: string, defaultPort: number): boolean {
  const withPort = new URL(url);
  if (!withPort.port) withPort.port = String(defaultPort);
  return spawnSync(process.execPath, ['-e', PROBE, withPort.toString()], { timeout: 5000 }).status === 0;
}

/**
 * `describe` for a suite that needs a server: when the server is unreachable the suite is skipped
 * with a printed reason, unless `REQUIRE_SERVICES=1`, when it runs and fails.
 */
export function describeWithService(name: string, url: string, defaultPort: number): jest.Describe {
  if (process.env.REQUIRE_SERVICES === '1' || reachable(url, defaultPort)) return describe;
  console.warn(`Skipping the ${name} suites: nothing answers at ${url} (set REQUIRE_SERVICES=1 to fail instead).`);
  return describe.skip;
}

export const describeWithRedis = describeWithService('Redis', REDIS_URL, 6379);
export const describeWithPostgres = describeWithService('PostgreSQL', DATABASE_URL, 5432);
