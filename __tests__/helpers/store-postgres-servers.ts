import { execFile } from 'node:child_process';
import { appendFileSync, chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { postgresBinDir } from './store-failover-binaries';
import { freePort } from './store-redis-server';

const run = promisify(execFile);

/** Runs a PostgreSQL binary as the `postgres` user (PostgreSQL refuses to run as root). */
async function asPostgres(binary: string, args: readonly string[]): Promise<string> {
  const path = join(postgresBinDir() as string, binary);
  const [command, commandArgs] =
    process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', path, ...args]] : [path, [...args]];
  const { stdout } = await run(command, commandArgs, { cwd: tmpdir() });
  return stdout;
}

/** The postmaster's PID, from the first line of its `postmaster.pid`. */
function postmasterPid(dataDir: string): number | undefined {
  try {
    return Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** One private PostgreSQL server: a data directory in the set's temp dir and a port of its own. */
export class PostgresNode {
  #pid: number | undefined;

  constructor(
    readonly dataDir: string,
    readonly port: number,
  ) {}

  get pid(): number | undefined {
    return this.#pid;
  }

  async start(): Promise<void> {
    await asPostgres('pg_ctl', ['-D', this.dataDir, '-l', `${this.dataDir}.log`, '-w', '-t', '60', 'start']);
    this.#pid = postmasterPid(this.dataDir);
  }

  /** Sends `signal` to the postmaster and waits until it is gone. */
  async kill(signal: NodeJS.Signals): Promise<void> {
    const pid = this.#pid;
    this.#pid = undefined;
    if (pid === undefined || !alive(pid)) return;
    process.kill(pid, signal);
    while (alive(pid)) await sleep(20);
  }
}

/**
 * A primary and a streaming standby (`pg_basebackup -R`) in a temp dir owned by `postgres`, the
 * primary with `synchronous_standby_names = '*'` once the standby streams (so the standby keeps an
 * async configuration of its own, and a promoted standby answers alone). `stop()` ends both by PID.
 */
export class PostgresReplicaSet {
  private constructor(
    readonly dir: string,
    readonly primary: PostgresNode,
    readonly standby: PostgresNode,
  ) {}

  static async start(): Promise<PostgresReplicaSet> {
    const dir = mkdtempSync(join(tmpdir(), 'mdpw-pg-'));
    if (process.getuid?.() === 0) {
      const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
      const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
      chownSync(dir, uid, gid);
    }
    const set = new PostgresReplicaSet(
      dir,
      new PostgresNode(join(dir, 'primary'), await freePort()),
      new PostgresNode(join(dir, 'standby'), await freePort()),
    );
    const stopWithUs = (): void => {
      for (const node of [set.primary, set.standby]) if (node.pid !== undefined) process.kill(node.pid, 'SIGKILL');
    };
    process.once('exit', stopWithUs);
    try {
      await asPostgres('initdb', ['-D', set.primary.dataDir, '-U', 'postgres', '--auth=trust', '--no-sync']);
      appendConf(set.primary, ['wal_level = replica', 'max_wal_senders = 5', 'shared_buffers = 16MB']);
      await set.primary.start();
      await asPostgres('pg_basebackup', [
        '-h', '127.0.0.1', '-p', String(set.primary.port), '-U', 'postgres', '-D', set.standby.dataDir, '-R', '-X', 'stream',
      ]);
      appendConf(set.standby, []);
      await set.standby.start();
      await set.sql(set.primary, `ALTER SYSTEM SET synchronous_standby_names = '*'`);
      await set.sql(set.primary, 'SELECT pg_reload_conf()');
      while ((await set.sql(set.primary, 'SELECT sync_state FROM pg_stat_replication')).trim() !== 'sync') await sleep(100);
      return set;
    } catch (error) {
      await set.stop();
      throw error;
    }
  }

  /** `text` run by psql on `node`, its unaligned output. */
  async sql(node: PostgresNode, text: string): Promise<string> {
    return asPostgres('psql', ['-h', '127.0.0.1', '-p', String(node.port), '-U', 'postgres', '-d', 'postgres', '-XAtc', text]);
  }

  /** kill -9 of the primary's postmaster, then `pg_ctl promote` of the standby. */
  async failover(): Promise<void> {
    await this.primary.kill('SIGKILL');
    await asPostgres('pg_ctl', ['-D', this.standby.dataDir, '-w', '-t', '60', 'promote']);
  }

  /** Immediate shutdown (SIGQUIT) of both postmasters by PID, then removes the temp dir. */
  async stop(): Promise<void> {
    await Promise.all([this.primary.kill('SIGQUIT'), this.standby.kill('SIGQUIT')]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function appendConf(node: PostgresNode, lines: readonly string[]): void {
  appendFileSync(
    join(node.dataDir, 'postgresql.conf'),
    ['', `port = ${node.port}`, "listen_addresses = '127.0.0.1'", `unix_socket_directories = '${node.dataDir}'`, ...lines, ''].join('\n'),
  );
}

/**
 * A TCP forwarder standing in for the address clients use (a virtual IP, a load balancer): it
 * forwards to `target`, and `switchTo()` points it elsewhere and drops the connections it holds.
 */
export class Forwarder {
  readonly #sockets = new Set<Socket>();

  private constructor(
    readonly server: Server,
    readonly port: number,
    private target: number,
  ) {}

  static async start(target: number): Promise<Forwarder> {
    const forwarding: { to?: Forwarder } = {};
    const server = createServer((client) => forwarding.to?.forward(client));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    forwarding.to = new Forwarder(server, (server.address() as { port: number }).port, target);
    return forwarding.to;
  }

  forward(client: Socket): void {
    const upstream = connect(this.target, '127.0.0.1');
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      this.#sockets.delete(client);
      this.#sockets.delete(upstream);
    };
    for (const socket of [client, upstream]) {
      this.#sockets.add(socket);
      socket.on('error', end);
      socket.on('close', end);
    }
    client.pipe(upstream).pipe(client);
  }

  switchTo(target: number): void {
    this.target = target;
    for (const socket of this.#sockets) socket.destroy();
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
