import { createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import {
  createPasswordRouter,
  createServerPasswordRouter,
  PasswordService,
  type PasswordEvent,
  type PasswordStore,
  type ServerPasswordRouterOptions,
} from '../../lib';
import { recordingLogger } from './app';

/** The owner token of the wait hosts; any other token is unauthenticated. */
export const OWNER_TOKEN = 'wait-owner-token';
/** Instance ids starting with this are not the owner's: `lookupInstance` resolves nothing. */
export const FOREIGN = 'foreign-';
/** The metadata proxy secret the wait suites give `examples/cluster.ts`. */
export const PROXY_SECRET = 'wait-proxy-secret';

/** A listening host app with both routers on one service over `store`, and what it saw. */
export interface WaitHost {
  readonly baseUrl: string;
  readonly service: PasswordService;
  readonly events: PasswordEvent[];
  readonly logger: ReturnType<typeof recordingLogger>;
  /** How many times `lookupInstance` ran. */
  lookups(): number;
  close(): Promise<void>;
}

/** Starts a host on an ephemeral port of 127.0.0.1 with the owner router's `overrides`. */
export async function startWaitHost(
  store: PasswordStore,
  overrides: Partial<ServerPasswordRouterOptions<{ id: string }>> = {},
): Promise<WaitHost> {
  const events: PasswordEvent[] = [];
  const logger = recordingLogger();
  const service = new PasswordService({ store, onEvent: (event) => events.push(event), logger });
  let lookups = 0;
  const app = express();
  app.use(
    '/openstack',
    createPasswordRouter({
      service,
      logger,
      authenticate: (req) => (req.get('x-test-instance') ? { instanceId: req.get('x-test-instance') as string } : null),
      lookupInstance: ({ principal }) => ({ id: principal.instanceId }),
    }),
  );
  app.use(
    '/compute/v2.1',
    createServerPasswordRouter<{ id: string }>({
      service,
      logger,
      authenticate: (req) => (req.get('x-auth-token') === OWNER_TOKEN ? { id: 'owner' } : null),
      lookupInstance: ({ instanceId }) => {
        lookups++;
        return instanceId.startsWith(FOREIGN) ? null : { id: instanceId };
      },
      ...overrides,
    }),
  );
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    service,
    events,
    logger,
    lookups: () => lookups,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** What an owner GET answered, and how long it took. */
export interface OwnerAnswer {
  readonly status: number;
  readonly password: string | undefined;
  readonly applied: string | null;
  readonly elapsedMs: number;
  /** When the answer arrived (`performance.now()`). */
  readonly at: number;
}

/** An owner GET of `id`'s password, with `Prefer` when given. */
export async function ownerGet(
  baseUrl: string,
  id: string,
  prefer?: string,
  options: { token?: string; signal?: AbortSignal } = {},
): Promise<OwnerAnswer> {
  const started = performance.now();
  const response = await fetch(`${baseUrl}/compute/v2.1/servers/${id}/os-server-password`, {
    headers: { 'X-Auth-Token': options.token ?? OWNER_TOKEN, ...(prefer !== undefined && { Prefer: prefer }) },
    signal: options.signal,
  });
  const body = (await response.json()) as { password?: string };
  const at = performance.now();
  return {
    status: response.status,
    password: body.password,
    applied: response.headers.get('preference-applied'),
    elapsedMs: at - started,
    at,
  };
}

/** A guest POST through `examples/cluster.ts`, signed as its metadata proxy would. */
export async function signedGuestPost(baseUrl: string, id: string, value: string): Promise<number> {
  const signature = createHmac('sha256', PROXY_SECRET).update(id).digest('hex');
  const response = await fetch(`${baseUrl}/openstack/latest/password`, {
    method: 'POST',
    headers: { 'X-Instance-ID': id, 'X-Tenant-ID': 'project-1', 'X-Instance-ID-Signature': signature },
    body: value,
  });
  await response.arrayBuffer();
  return response.status;
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
