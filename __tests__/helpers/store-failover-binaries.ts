import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const POSTGRES_ROOT = '/usr/lib/postgresql';

/** The newest PostgreSQL's bin directory under /usr/lib/postgresql, if any has initdb. */
export function postgresBinDir(): string | undefined {
  if (!existsSync(POSTGRES_ROOT)) return undefined;
  const versions = readdirSync(POSTGRES_ROOT)
    .filter((version) => existsSync(join(POSTGRES_ROOT, version, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length > 0 ? join(POSTGRES_ROOT, versions[0], 'bin') : undefined;
}

/**
 * `describe` for a suite that starts its own servers from `what`'s binaries: skipped with a printed
 * reason only where they are not installed, unless `REQUIRE_SERVICES=1`, when it runs and fails.
 */
function describeWithBinaries(what: string, installed: boolean): jest.Describe {
  if (installed || process.env.REQUIRE_SERVICES === '1') return describe;
  console.warn(`Skipping the ${what} failover suite: its binaries are not installed (set REQUIRE_SERVICES=1 to fail instead).`);
  return describe.skip;
}

const redisInstalled = spawnSync('redis-server', ['--version']).status === 0 && spawnSync('redis-cli', ['--version']).status === 0;

/** `describe` for suites that start redis-server (and redis-cli) themselves. */
export const describeWithRedisServer = describeWithBinaries('Redis', redisInstalled);
/** `describe` for suites that start PostgreSQL (initdb, pg_ctl, pg_basebackup) themselves. */
export const describeWithPostgresBinaries = describeWithBinaries('PostgreSQL', postgresBinDir() !== undefined);
