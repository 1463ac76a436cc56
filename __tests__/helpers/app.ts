import { randomBytes } from 'node:crypto';
import express, { type Express, type Request } from 'express';
import {
  createPasswordRouter,
  createServerPasswordRouter,
  PasswordError,
  PasswordService,
  type Logger,
  type PasswordEvent,
  type PasswordRouterOptions,
  type PasswordServiceOptions,
  type ServerPasswordRouterOptions,
} from '../../lib';

/** A base64 value shaped like a 2048-bit key's ciphertext (344 characters). */
export function ciphertext(bytes = 256): string {
  return randomBytes(bytes).toString('base64');
}

/** A logger that remembers what it was told. */
export function recordingLogger(): Logger & { errors: unknown[][]; warnings: unknown[][] } {
  const errors: unknown[][] = [];
  const warnings: unknown[][] = [];
  return {
    errors,
    warnings,
    error: (...args: unknown[]) => errors.push(args),
    warn: (...args: unknown[]) => warnings.push(args),
  };
}

/** The guest principal of the test apps: the instance named by `X-Test-Instance`. */
export interface TestGuest {
  instanceId: string;
}

/** Identifies a guest by `X-Test-Instance`; no header, no principal. */
export function headerGuest(req: Request): TestGuest | null {
  const instanceId = req.get('x-test-instance');
  return instanceId ? { instanceId } : null;
}

/** A test host app, its service, the events it emitted and what it logged. */
export interface TestHost {
  app: Express;
  service: PasswordService;
  events: PasswordEvent[];
  logger: ReturnType<typeof recordingLogger>;
}

export interface GuestAppOptions extends Partial<PasswordRouterOptions<TestGuest>> {
  /** Middleware the host runs before the router. */
  before?: express.RequestHandler[];
  /** Options of the service the app creates when no `service` is given; `onEvent` records by default. */
  serviceOptions?: Omit<PasswordServiceOptions, 'logger'>;
}

/**
 * A host app with the guest router under `/openstack`, guests named by `X-Test-Instance`, and a host
 * route of its own under the same prefix. Returns the app, its service and the events seen.
 */
export function guestApp(options: GuestAppOptions = {}): TestHost {
  const events: PasswordEvent[] = [];
  const logger = recordingLogger();
  const { before = [], serviceOptions = {}, ...routerOptions } = options;
  const service =
    routerOptions.service ??
    new PasswordService({ onEvent: (event) => events.push(event), logger, ...serviceOptions });
  const app = express();
  for (const middleware of before) app.use(middleware);
  app.use(
    '/openstack',
    createPasswordRouter<TestGuest>({
      authenticate: headerGuest,
      lookupInstance: ({ principal }) => ({ id: principal.instanceId }),
      logger,
      ...routerOptions,
      service,
    }),
  );
  app.get('/openstack/latest/meta_data.json', (_req, res) => {
    res.json({ uuid: 'host-route' });
  });
  return { app, service, events, logger };
}

/** An owner principal of the test apps. */
export interface TestOwner {
  id: string;
  projectId: string;
  role: 'reader' | 'member';
}

/** Owners by `X-Auth-Token`: `<role>-<project>`, e.g. `member-p1`. */
export function tokenOwner(req: Request): TestOwner | null {
  const match = /^(reader|member)-(\w+)$/.exec(req.get('x-auth-token') ?? '');
  return match ? { id: `${match[1]}@${match[2]}`, role: match[1] as TestOwner['role'], projectId: match[2] } : null;
}

/** Builds both routers on one service; instances are `<project>-<name>`, owned by `<project>`. */
export function hostApp(overrides: Partial<ServerPasswordRouterOptions<TestOwner>> = {}): TestHost {
  const events: PasswordEvent[] = [];
  const logger = recordingLogger();
  const service = new PasswordService({ onEvent: (event) => events.push(event), logger });
  const app = express();
  app.use(
    '/openstack',
    createPasswordRouter<TestGuest>({
      service,
      logger,
      authenticate: headerGuest,
      lookupInstance: ({ principal }) => ({ id: principal.instanceId }),
    }),
  );
  app.use(
    '/compute/v2.1',
    createServerPasswordRouter<TestOwner>({
      service,
      logger,
      authenticate: tokenOwner,
      lookupInstance: ({ principal, instanceId, action }) => {
        if (!instanceId.startsWith(`${principal.projectId}-`)) return null;
        if (action === 'clear' && principal.role !== 'member') {
          throw new PasswordError(403, 'FORBIDDEN', 'Only project members may clear a password.');
        }
        return { id: instanceId };
      },
      ...overrides,
    }),
  );
  return { app, service, events, logger };
}
