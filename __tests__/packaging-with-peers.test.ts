import {
  installConsumer,
  lockedVersion,
  makeWorkDir,
  packTarball,
  removeWorkDir,
  reportOf,
  type ConsumerProject,
} from './helpers/packaging-project';

describe('store and metrics subpaths with ioredis, pg and prom-client installed, from the packed tarball', () => {
  let workDir: string | undefined;
  let consumer: ConsumerProject;

  beforeAll(async () => {
    workDir = await makeWorkDir();
    const { tarball } = await packTarball(workDir);
    const dependencies = Object.fromEntries(['express', 'ioredis', 'pg', 'prom-client'].map((name) => [name, lockedVersion(name)]));
    consumer = await installConsumer(workDir, 'with-peers', tarball, dependencies, [
      'require-all.cjs',
      'construct-stores.cjs',
      'metrics-events.mjs',
    ]);
  }, 180_000);

  afterAll(() => removeWorkDir(workDir));

  test('require() of /redis, /postgres and /metrics loads RedisStore, PostgresStore and createPasswordMetrics', async () => {
    const report = reportOf<Record<string, unknown>>(await consumer.node('require-all.cjs'));
    expect(report['express-metadata-password/redis']).toMatchObject({ RedisStore: 'class' });
    expect(report['express-metadata-password/postgres']).toMatchObject({ PostgresStore: 'class' });
    expect(report['express-metadata-password/metrics']).toEqual({ createPasswordMetrics: 'function' });
  });

  test('an ES module feeds the service events to /metrics and reads them back from its registry', async () => {
    expect(reportOf(await consumer.node('metrics-events.mjs'))).toEqual({
      audit: ['password.set', 'password.conflict'],
      contentType: 'text/plain; version=0.0.4; charset=utf-8',
      samples: [
        'metadata_password_events_total{type="password.set",reason=""} 1',
        'metadata_password_events_total{type="password.conflict",reason=""} 1',
        'metadata_password_store_duration_seconds_count{type="password.set"} 1',
        'metadata_password_store_duration_seconds_count{type="password.conflict"} 1',
      ],
    });
  });

  test('both stores accept real ioredis and pg clients and serve a PasswordService', async () => {
    expect(reportOf(await consumer.node('construct-stores.cjs'))).toEqual({
      redisPrefix: 'mdpw:',
      postgresTable: '"instance_passwords"',
      servicesBuilt: [true, true],
    });
  });
});
