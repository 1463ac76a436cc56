import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'pg';
import { PostgresStore } from '../lib/stores/postgres';
import { describeWithPostgresBinaries } from './helpers/store-failover-binaries';
import { describeCounts, proveFailover } from './helpers/store-failover-load';
import { startGuestHost, type GuestHost } from './helpers/store-fault-load';
import { Forwarder, PostgresReplicaSet } from './helpers/store-postgres-servers';

describeWithPostgresBinaries('PostgresStore on a primary with a synchronous standby', () => {
  let set: PostgresReplicaSet | undefined;
  let forwarder: Forwarder | undefined;
  let pool: Pool | undefined;
  let store: PostgresStore;
  let host: GuestHost | undefined;

  beforeAll(async () => {
    set = await PostgresReplicaSet.start();
    forwarder = await Forwarder.start(set.primary.port);
    pool = new Pool({ host: '127.0.0.1', port: forwarder.port, user: 'postgres', database: 'postgres', max: 10 });
    store = new PostgresStore({ pool, timeoutMs: 1000, logger: { warn: () => {} } });
    await store.migrate();
  }, 120_000);
  afterAll(async () => {
    await host?.close();
    await store?.close();
    await pool?.end();
    await forwarder?.close();
    await set?.stop();
  });

  test('a write is answered only once the synchronous standby has it', async () => {
    const replicaSet = set as PostgresReplicaSet;
    const id = randomUUID();
    // No standby can confirm: the commit waits, and the store answers nothing but a timeout.
    await replicaSet.sql(replicaSet.primary, `ALTER SYSTEM SET synchronous_standby_names = 'nobody'`);
    await replicaSet.sql(replicaSet.primary, 'SELECT pg_reload_conf()');
    // pg_reload_conf() only signals: wait until the primary no longer counts the standby as synchronous.
    while ((await replicaSet.sql(replicaSet.primary, 'SELECT sync_state FROM pg_stat_replication')).trim() === 'sync') {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    try {
      // pg's read timeout or the store's own, whichever fires first.
      await expect(store.setIfAbsent(id, 'waits for the standby')).rejects.toThrow(/PostgreSQL did not answer within 1000 ms|Query read timeout/);
    } finally {
      await replicaSet.sql(replicaSet.primary, `ALTER SYSTEM SET synchronous_standby_names = '*'`);
      await replicaSet.sql(replicaSet.primary, 'SELECT pg_reload_conf()');
    }
    // It committed locally, as a timed-out write may: an agent's retry finds it (once the standby
    // confirmed it and the waiting backend let go), and so does the standby.
    let retried: boolean | undefined;
    for (let attempt = 0; attempt < 30 && retried === undefined; attempt++) {
      retried = await store.setIfAbsent(id, 'retry').catch(() => undefined);
    }
    expect(retried).toBe(false);
    const query = `SELECT convert_from(value, 'UTF8') FROM instance_passwords WHERE id = '${id}'`;
    let onStandby = '';
    for (let look = 0; look < 100 && onStandby === ''; look++) {
      onStandby = (await replicaSet.sql(replicaSet.standby, query)).trim();
      if (onStandby === '') await sleep(100);
    }
    expect(onStandby).toBe('waits for the standby');
  }, 60_000);

  test('kill -9 of the primary under POST load, pg_ctl promote of the standby: no password answered 200 is lost', async () => {
    const replicaSet = set as PostgresReplicaSet;
    host = await startGuestHost(store);
    const { counts } = await proveFailover(host, {
      clients: 20,
      beforeFault: 150,
      afterFault: 50,
      deadlineMs: 60_000,
      failover: async () => {
        const started = Date.now();
        await replicaSet.failover();
        // The address the store uses now leads to the promoted standby.
        forwarder?.switchTo(replicaSet.standby.port);
        console.log(`PostgreSQL standby promoted ${Date.now() - started} ms after the kill.`);
      },
    });
    console.log(describeCounts('PostgreSQL failover, synchronous standby', counts));
    expect(counts.lost).toBe(0);
    expect(counts.ok).toBeGreaterThan(200);
    await expect(replicaSet.sql(replicaSet.standby, 'SELECT pg_is_in_recovery()')).resolves.toBe('f\n');
  }, 120_000);
});
