import {
  installConsumer,
  lockedVersion,
  makeWorkDir,
  packTarball,
  removeWorkDir,
  reportOf,
  type ConsumerProject,
} from './helpers/packaging-project';

describe('store subpaths with ioredis and pg installed, from the packed tarball', () => {
  let workDir: string | undefined;
  let consumer: ConsumerProject;

  beforeAll(async () => {
    workDir = await makeWorkDir();
    const { tarball } = await packTarball(workDir);
    const dependencies = Object.fromEntries(['express', 'ioredis', 'pg'].map((name) => [name, lockedVersion(name)]));
    consumer = await installConsumer(workDir, 'with-peers', tarball, dependencies, [
      'require-all.cjs',
      'construct-stores.cjs',
    ]);
  }, 180_000);

  afterAll(() => removeWorkDir(workDir));

  test('require() of /redis and /postgres loads RedisStore and PostgresStore classes', async () => {
    const report = reportOf<Record<string, unknown>>(await consumer.node('require-all.cjs'));
    expect(report['express-metadata-password/redis']).toMatchObject({ RedisStore: 'class' });
    expect(report['express-metadata-password/postgres']).toMatchObject({ PostgresStore: 'class' });
  });

  test('both stores accept real ioredis and pg clients and serve a PasswordService', async () => {
    expect(reportOf(await consumer.node('construct-stores.cjs'))).toEqual({
      redisPrefix: 'mdpw:',
      postgresTable: '"instance_passwords"',
      serviceStores: [true, true],
    });
  });
});
