import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ts from 'typescript';
import { REPO_ROOT, run, type RunResult } from './packaging-project';

// The TypeScript consumers are kept as text: the repository's own type-check must not see sources
// that import the packed package by name.

export type ModuleFormat = 'commonjs' | 'module';

export interface ConsumerSource {
  /** The folder of the consumer, whose package.json declares `type`. */
  readonly folder: string;
  readonly type: ModuleFormat;
  readonly source: string;
  /** The file's name in its folder; default `consumer.ts`. */
  readonly file?: string;
}

/** A strict consumer of the public types: a typed principal, events, a custom store, PasswordError. */
const TYPED_CONSUMER = `
import express, { type Request } from 'express';
import {
  createPasswordRouter,
  createServerPasswordRouter,
  exceptPasswordRoutes,
  PasswordError,
  PasswordService,
  type PasswordEvent,
  type PasswordRouterOptions,
  type PasswordStore,
  type ServerPasswordRouterOptions,
} from 'express-metadata-password';
import { decryptPassword, encryptPassword } from 'express-metadata-password/crypto';

interface Tenant {
  readonly id: string;
  readonly instanceId: string;
}

class MapStore implements PasswordStore {
  readonly #values = new Map<string, string>();
  async get(id: string): Promise<string | undefined> {
    return this.#values.get(id);
  }
  async setIfAbsent(id: string, value: string): Promise<boolean> {
    if (this.#values.has(id)) return false;
    this.#values.set(id, value);
    return true;
  }
  async set(id: string, value: string): Promise<void> {
    this.#values.set(id, value);
  }
  async delete(id: string): Promise<boolean> {
    return this.#values.delete(id);
  }
}

const audit: PasswordEvent[] = [];
const service = new PasswordService({ store: new MapStore(), onEvent: (event) => audit.push(event) });

function tenantOf(req: Request): Tenant | null {
  const instanceId = req.get('x-instance-id');
  return instanceId === undefined ? null : { id: 'tenant-' + instanceId, instanceId };
}

const guest: PasswordRouterOptions<Tenant> = {
  service,
  authenticate: tenantOf,
  lookupInstance: ({ principal }) => ({ id: principal.instanceId }),
  principalId: (principal) => principal.id,
};
const owner: ServerPasswordRouterOptions<Tenant> = {
  service,
  authenticate: async (req) => tenantOf(req),
  lookupInstance: async ({ principal, instanceId, action }) => {
    if (instanceId !== principal.instanceId) throw new PasswordError(404, 'INSTANCE_NOT_FOUND', 'No such server.');
    if (action === 'clear') throw new PasswordError(403, 'FORBIDDEN', 'Readers may not clear passwords.');
    return { id: instanceId };
  },
};

interface KeystoneAuth {
  readonly userId: string;
  readonly projectId: string;
  readonly roles: readonly string[];
}
function keystone(req: Request): KeystoneAuth | null {
  const token = req.get('x-auth-token');
  return token ? { userId: 'u-' + token, projectId: 'p1', roles: ['member'] } : null;
}

// authenticate written first: the principal's type is inferred from it.
const inferred = createServerPasswordRouter({
  service,
  authenticate: keystone,
  lookupInstance: ({ principal, instanceId, action }) => {
    const clearing: boolean = action === 'clear';
    // @ts-expect-error the owner router never asks about 'set'
    if (action === 'set') return null;
    return principal.roles.includes('member') || !clearing ? { id: instanceId.toLowerCase() } : null;
  },
  principalId: (principal) => principal.userId,
  errorBody: ({ status, message }) => ({ itemNotFound: { code: status, message } }),
});

// lookupInstance written first: the explicit generic names the principal.
const explicit = createServerPasswordRouter<KeystoneAuth>({
  service,
  lookupInstance: async ({ principal, instanceId }) => (principal.projectId === 'p1' ? { id: instanceId } : null),
  authenticate: keystone,
});

const guestRouter = createPasswordRouter<Tenant>({
  lookupInstance: (context) => {
    // @ts-expect-error the guest router has no instanceId: the caller means its own instance
    void context.instanceId;
    // @ts-expect-error the guest router never asks about 'clear'
    if (context.action === 'clear') return null;
    return { id: context.principal.instanceId, publicKey: undefined };
  },
  authenticate: tenantOf,
});

const app = express();
app.use(exceptPasswordRoutes(express.urlencoded({ extended: false })));
app.use('/openstack', createPasswordRouter(guest));
app.use('/compute/v2.1', createServerPasswordRouter(owner));
app.use('/compute/v2.2', inferred, explicit);
app.use('/openstack-v2', guestRouter);

function lastEventType(): PasswordEvent['type'] | undefined {
  return audit.at(-1)?.type;
}

async function storeEncrypted(publicKey: string, privateKey: string): Promise<string | undefined> {
  const ciphertext: string = encryptPassword('Passw0rd!', publicKey, { padding: 'oaep-sha256' });
  const stored: boolean = await service.setOnce('i-1', ciphertext, { principalId: 'tenant-i-1' });
  return stored ? decryptPassword(ciphertext, privateKey, { padding: 'oaep-sha256' }) : undefined;
}
`;

/**
 * Exports only each module format accepts, so a consumer checked in the wrong format fails:
 * `export =` in CommonJS, top-level await in an ES module.
 */
const FORMAT_EXPORTS: Record<ModuleFormat, string> = {
  commonjs: 'export = { app, lastEventType, storeEncrypted };\n',
  module: `export { app, lastEventType, storeEncrypted };
export const firstRead: string | undefined = await service.get('i-1');
`,
};

export function typedConsumer(format: ModuleFormat): ConsumerSource {
  return { folder: `typed-${format}`, type: format, source: TYPED_CONSUMER + FORMAT_EXPORTS[format] };
}

/** An ES module consumer of `/browser`: its declarations, under Node's types (no DOM library). */
export const BROWSER_CONSUMER: ConsumerSource = {
  folder: 'browser',
  type: 'module',
  source: `
import {
  decryptPassword,
  getServerPassword,
  PasswordCryptoError,
  ServerPasswordError,
  type PasswordCryptoErrorCode,
  type PasswordPadding,
} from 'express-metadata-password/browser';

const padding: PasswordPadding = 'oaep-sha256';
const ciphertext: string = await getServerPassword({ url: 'http://127.0.0.1:1/compute/v2.1', serverId: 'vm-1', token: 't' });
export const password: string = await decryptPassword(ciphertext, '-----BEGIN PRIVATE KEY-----', { padding });
export function codeOf(error: unknown): PasswordCryptoErrorCode | number | undefined {
  if (error instanceof PasswordCryptoError) return error.code;
  return error instanceof ServerPasswordError ? error.status : undefined;
}
`,
};

/** One misspelt option: only real types refuse it at compile time. */
export const MISSPELT_OPTION: ConsumerSource = {
  folder: 'misspelt',
  type: 'commonjs',
  source: `
import { createPasswordRouter } from 'express-metadata-password';

export const router = createPasswordRouter({
  authenticate: () => null,
  lookupInstance: () => null,
  maxByte: 2048,
});
`,
};

/** The repository's own TypeScript (5.9), the default compiler of `typeCheck`. */
export const REPO_TSC = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

/** The entry points of the package and the declaration file of each, from the exports map. */
function entryPoints(): [specifier: string, declarations: string][] {
  const { name, exports } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
    name: string;
    exports: Record<string, string | { types?: string }>;
  };
  return Object.entries(exports).flatMap(([subpath, target]) =>
    typeof target === 'object' && target.types !== undefined
      ? [[name + subpath.slice(1), join(REPO_ROOT, target.types)] as [string, string]]
      : [],
  );
}

/** One entry point's exports: values and types apart. */
export interface EntryPointExports {
  readonly specifier: string;
  readonly values: readonly string[];
  readonly types: readonly string[];
}

let exportsRead: readonly EntryPointExports[] | undefined;

/**
 * Every name each entry point exports, read from the built declarations: values and types apart.
 * Read once per suite (each read builds a compiler program over the declarations and their
 * dependencies' types: about 1.5 s of CPU).
 */
export function publicExports(): readonly EntryPointExports[] {
  exportsRead ??= readPublicExports();
  return exportsRead;
}

function readPublicExports(): EntryPointExports[] {
  const entries = entryPoints();
  const program = ts.createProgram(
    entries.map(([, declarations]) => declarations),
    { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, skipLibCheck: true, noEmit: true },
  );
  const checker = program.getTypeChecker();
  return entries.map(([specifier, declarations]) => {
    const file = program.getSourceFile(declarations);
    const module = file && checker.getSymbolAtLocation(file);
    if (module === undefined) throw new Error(`${declarations} is missing: run \`npm run build\` first`);
    const values: string[] = [];
    const types: string[] = [];
    for (const symbol of checker.getExportsOfModule(module)) {
      const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      (target.flags & ts.SymbolFlags.Value ? values : types).push(symbol.name);
    }
    return { specifier, values: values.sort(), types: types.sort() };
  });
}

/**
 * An ES module that imports every export of every entry point, values and types, and exports them
 * again: each name must resolve, under the compiler checking it, as a user's import would.
 */
export function everyExportConsumer(): ConsumerSource {
  const lines: string[] = [];
  const names: string[] = [];
  publicExports().forEach(({ specifier, values, types }, index) => {
    const local = (name: string) => `${name} as e${index}_${name}`;
    if (values.length > 0) lines.push(`import { ${values.map(local).join(', ')} } from '${specifier}';`);
    if (types.length > 0) lines.push(`import type { ${types.map(local).join(', ')} } from '${specifier}';`);
    names.push(...[...values, ...types].map((name) => `e${index}_${name}`));
  });
  const values = publicExports().flatMap(({ values }, index) => values.map((name) => `e${index}_${name}`));
  lines.push(`export const everyValue = [${values.join(', ')}] as const;`);
  lines.push(`export type { ${names.filter((name) => !values.includes(name)).join(', ')} };`);
  return { folder: 'every-export', type: 'module', source: lines.join('\n') + '\n' };
}

/**
 * The `error TS` lines of a `typeCheck` run, each starting with the consumer file it is in
 * (`misspelt/consumer.ts(6,3): error TS2353: ...`).
 */
export function typeErrors(result: RunResult): string[] {
  return result.stdout.split('\n').filter((line) => / error TS\d+:/.test(line));
}

/**
 * Type-checks `consumers` in one run of `tsc` (default the repository's TypeScript), as a strict `nodenext`
 * project in `projectDir/name`. With `checkLibraries`, the package's own declarations and those of
 * its dependencies are checked too.
 */
export async function typeCheck(
  projectDir: string,
  name: string,
  consumers: readonly ConsumerSource[],
  checkLibraries: boolean,
  tsc: string = REPO_TSC,
): Promise<RunResult> {
  const dir = join(projectDir, name);
  const tsconfig = {
    compilerOptions: {
      module: 'nodenext',
      moduleResolution: 'nodenext',
      target: 'ES2022',
      strict: true,
      esModuleInterop: true,
      skipLibCheck: !checkLibraries,
      noEmit: true,
      types: ['node'],
    },
    files: consumers.map(({ folder, file = 'consumer.ts' }) => `${folder}/${file}`),
  };
  for (const { folder, type, source, file = 'consumer.ts' } of consumers) {
    await mkdir(join(dir, folder), { recursive: true });
    await writeFile(join(dir, folder, 'package.json'), JSON.stringify({ type }));
    await writeFile(join(dir, folder, file), source);
  }
  await writeFile(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
  return run(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], dir, 90_000);
}
