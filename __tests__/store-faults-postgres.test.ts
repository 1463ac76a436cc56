import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'pg';
import { PostgresStore } from '../lib/stores/postgres';
import { uniqueName } from './helpers/store-backends';
import { checkAnswers, countStatuses, planLoad, runLoad, startGuestHost, type GuestHost } from './helpers/store-fault-load';
import { DATABASE_URL, describeWithPostgres } from './helpers/services';

describeWithPostgres('PostgresStore when its connections are terminated', () => {
  const applicationName = uniqueName('mdpw_faults');
  const admin = new Pool({ connectionString: DATABASE_URL, max: 2 });
  const pool = new Pool({ connectionString: DATABASE_URL, max: 8, application_name: applicationName });
  const warnings: string[] = [];
  const store = new PostgresStore({
    pool,
    table: `mdpw_${uniqueName('faults')}`,
    timeoutMs: 1000,
    logger: { warn: (message: string) => warnings.push(message) },
  });
  let host: GuestHost;

  const terminate = async (): Promise<number> =>
    (
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [
        applicationName,
      ])
    ).rowCount ?? 0;

  beforeAll(async () => {
    await store.migrate();
    host = await startGuestHost(store);
  });
  afterAll(async () => {
    await host?.close();
    await admin.query(`DROP TABLE IF EXISTS ${store.table}`);
    await Promise.all([pool.end(), admin.end()]);
  });

  test('under load: only 200, 409 and 503; the host lives on; every 200 is readable', async () => {
    let terminated = 0;
    const { answers, fault } = await runLoad(host, planLoad(150, 4), {
      concurrency: 32,
      faultAfter: 200,
      fault: async () => {
        for (let round = 0; round < 25; round++) {
          terminated += await terminate();
          await sleep(20);
        }
      },
    });
    await fault;
    expect(terminated).toBeGreaterThan(0);
    expect(countStatuses(answers)).toEqual({ 200: expect.any(Number), 409: expect.any(Number), 503: expect.any(Number) });
    const winners = checkAnswers(answers);
    expect(await host.health()).toBe(200);
    for (const [instanceId, body] of winners) {
      expect(await host.request(instanceId, 'GET')).toMatchObject({ status: 200, text: body });
    }
  });

  test("the pool's idle connections terminated: a warning, no crash, and the next requests are served", async () => {
    warnings.length = 0;
    await Promise.all(Array.from({ length: 4 }, (_, i) => host.request(`idle-${i}`, 'GET')));
    const idle = pool.idleCount;
    expect(idle).toBeGreaterThan(0);
    await terminate();
    while (pool.idleCount > 0) await sleep(10);
    expect(warnings).toHaveLength(idle);
    expect(warnings[0]).toContain('terminating connection due to administrator command');
    expect(await host.request('idle-0', 'POST', 'after the termination')).toMatchObject({ status: 200 });
    expect(await host.request('idle-0', 'GET')).toMatchObject({ status: 200, text: 'after the termination' });
  });
});
