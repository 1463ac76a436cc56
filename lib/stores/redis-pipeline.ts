import type { Cluster, Command as IoredisCommand, Redis } from 'ioredis';

/** One command of a pipeline: its name and arguments. */
export type PipelineCommand = readonly [name: string, ...args: Array<string | number>];

/** What one command of a pipeline was answered: an error, or its reply. */
export type CommandReply = readonly [error: Error | null, reply: unknown];

/** A redirection Redis Cluster answered instead of running a command: `MOVED` or `ASK`. */
interface Redirection {
  readonly kind: 'MOVED' | 'ASK';
  /** `host:port` of the node to ask. */
  readonly address: string;
}

let commandClass: typeof IoredisCommand | undefined;

/** The slot of `key` by ioredis's own rule (hash tags included); ioredis is loaded on first use, being an optional peer. */
function slotOf(key: string): number {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- an optional peer, present since a Cluster client exists
  commandClass ??= (require('ioredis') as { Command: typeof IoredisCommand }).Command;
  return new commandClass('get', [key]).getSlot() as number;
}

/** `host:port` of a node connection, as `Cluster#slots` and redirections name nodes. */
const addressOf = (node: Redis): string => `${node.options.host}:${node.options.port}`;

/** The cluster's own connection to the node at `address`, master or replica, if it has one. */
function connectionTo(cluster: Cluster, address: string): Redis | undefined {
  return cluster.nodes('all').find((node) => addressOf(node) === address);
}

/** The connection to the master that owns `slot` in the cluster's slot map, if it has one. */
function ownerOf(cluster: Cluster, slot: number): Redis | undefined {
  const address = cluster.slots[slot]?.[0];
  return address === undefined ? undefined : connectionTo(cluster, address);
}

/** Refreshes the cluster's slot map (and its connections) with ioredis's own `CLUSTER SLOTS` round. */
function refreshSlotMap(cluster: Cluster): Promise<void> {
  return new Promise((resolve) => cluster.refreshSlotsCache(() => resolve()));
}

/** The connections being opened, each with the one wait every caller shares. */
const opening = new WeakMap<Redis, Promise<Redis>>();

/**
 * Resolves once `node` can take commands. The cluster opens node connections lazily, and with
 * `enableOfflineQueue: false` a command sent while one is still opening is refused: so the first
 * commands to each node wait for its connection instead.
 */
function whenReady(node: Redis): Promise<Redis> {
  if (node.status === 'ready') return Promise.resolve(node);
  const closed = (): Error => new Error(`The connection to the Redis Cluster node ${addressOf(node)} closed.`);
  if (node.status === 'end') return Promise.reject(closed());
  let ready = opening.get(node);
  if (!ready) {
    ready = new Promise<Redis>((resolve, reject) => {
      const settle = (error?: Error): void => {
        node.off('ready', onReady);
        node.off('end', onEnd);
        opening.delete(node);
        if (error) reject(error);
        else resolve(node);
      };
      const onReady = (): void => settle();
      const onEnd = (): void => settle(closed());
      node.on('ready', onReady);
      node.on('end', onEnd);
      if (node.status === 'wait') node.connect().catch(() => {});
    });
    opening.set(node, ready);
  }
  return ready;
}

/** The slot's master, ready: after a refresh of the slot map when the map names no connection. */
async function readyOwner(cluster: Cluster, slot: number): Promise<Redis> {
  let owner = ownerOf(cluster, slot);
  if (!owner) {
    await refreshSlotMap(cluster);
    owner = ownerOf(cluster, slot);
  }
  if (!owner) throw new Error(`Redis Cluster has no reachable master for slot ${slot}.`);
  return whenReady(owner);
}

/** `address` as the cluster's connections name it: through the client's `natMap`, as ioredis maps the nodes it learns of. */
function natMapped(cluster: Cluster, address: string): string {
  const { natMap } = cluster.options;
  const mapped = typeof natMap === 'function' ? natMap(address) : natMap?.[address];
  return mapped ? `${mapped.host}:${mapped.port}` : address;
}

/** The node `redirection` names, ready; after a refresh when the cluster has no connection to it yet. */
async function readyTarget(cluster: Cluster, slot: number, redirection: Redirection): Promise<Redis> {
  const address = natMapped(cluster, redirection.address);
  const known = connectionTo(cluster, address);
  if (known) return whenReady(known);
  await refreshSlotMap(cluster);
  const target = connectionTo(cluster, address) ?? (redirection.kind === 'MOVED' ? ownerOf(cluster, slot) : undefined);
  if (!target) throw new Error(`Redis Cluster redirected to ${redirection.address}, which it does not list.`);
  return whenReady(target);
}

/** The redirection in `error`, if it is one. */
function redirectionIn(error: Error | null): Redirection | undefined {
  const [kind, , address] = error?.message.split(' ') ?? [];
  return (kind === 'MOVED' || kind === 'ASK') && address ? { kind, address } : undefined;
}

/**
 * Sends `commands` as one pipeline on `node`'s connection (after `ASKING` when `asking`): ioredis
 * writes a pipeline to one connection at once, and a standalone or Sentinel client never resends
 * part of it elsewhere. One reply per command, none of which rejects.
 */
export function sendPipeline(node: Redis, commands: readonly PipelineCommand[], asking = false): Array<Promise<CommandReply>> {
  const resolvers: Array<(reply: CommandReply) => void> = [];
  const replies = commands.map((_, index) => new Promise<CommandReply>((resolve) => (resolvers[index] = resolve)));
  const pipeline = node.pipeline([
    ...(asking ? [['asking']] : []),
    ...commands.map((command, index) => [...command, (error: Error | null, reply: unknown) => resolvers[index]([error, reply])]),
  ]);
  pipeline.exec().catch((error: Error) => resolvers.forEach((resolve) => resolve([error, undefined])));
  return replies;
}

/**
 * Sends `commands` as one pipeline on one connection: the one to the master that owns `key`'s slot
 * (`key` is the first command's), opened first if it is not yet. When the first command is
 * answered MOVED or ASK, none of the keyed commands ran there and a `WAIT` behind them confirmed
 * nothing: the whole pipeline is resent once to the node named (after `ASKING` for ASK), and after
 * MOVED the slot map is refreshed for the calls that follow. ioredis follows redirections only for
 * commands sent alone (5) or resends a pipeline's commands one by one (6), which would part a write
 * from its `WAIT`. Resolves once the first command is answered, with the replies of the attempt
 * that counts: one promise per command, none of which rejects. Rejects when no node can be reached.
 */
export async function sendToSlotOwner(
  cluster: Cluster,
  key: string,
  commands: readonly PipelineCommand[],
): Promise<Array<Promise<CommandReply>>> {
  const slot = slotOf(key);
  const replies = sendPipeline(await readyOwner(cluster, slot), commands);
  const redirection = redirectionIn((await replies[0])[0]);
  if (!redirection) return replies;
  if (redirection.kind === 'MOVED') cluster.refreshSlotsCache();
  return sendPipeline(await readyTarget(cluster, slot, redirection), commands, redirection.kind === 'ASK');
}
