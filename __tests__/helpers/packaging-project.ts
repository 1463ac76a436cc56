import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RUN_KEYS_MADE_VARIABLE, RUN_KEYS_VARIABLE } from './crypto-keys';
import { waitForRunFile } from './run-files';

export const REPO_ROOT = join(__dirname, '..', '..');
const FIXTURES = join(REPO_ROOT, '__tests__', 'fixtures', 'consumers');
const INSTALL_TIMEOUT_MS = 150_000;

export interface RunResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface PackedPackage {
  readonly tarball: string;
  /** Paths inside the package, sorted: `package.json`, `dist/lib/index.js`, ... */
  readonly files: readonly string[];
}

export interface ConsumerProject {
  readonly dir: string;
  /** Runs `node script ...args` in the project. */
  node(script: string, args?: readonly string[]): Promise<RunResult>;
}

/** The version of `name` the repository's lock file installs, so consumers reuse the npm cache. */
export function lockedVersion(name: string): string {
  const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { version: string }>;
  };
  const entry = lock.packages[`node_modules/${name}`];
  if (entry === undefined) throw new Error(`${name} is not in package-lock.json`);
  return entry.version;
}

/** Variables npm sets for the script running us: they describe this repository, not a consumer. */
const RUNNING_SCRIPT_VARIABLES = /^npm_(package_|lifecycle_|command$|config_local_prefix$|config_loglevel$)/i;

/** The environment for child processes: ours, without what would tie them to this repository. */
export function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) if (RUNNING_SCRIPT_VARIABLES.test(name)) delete env[name];
  delete env.NODE_PATH;
  delete env.NODE_OPTIONS;
  return env;
}

/**
 * Runs a command to its end (or kills it after `timeoutMs`) and resolves its status and output;
 * in `childEnv()` unless given another environment.
 */
export function run(
  command: string,
  args: readonly string[],
  cwd: string,
  timeoutMs = 30_000,
  env: NodeJS.ProcessEnv = childEnv(),
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      stderr += `\n[killed after ${timeoutMs} ms: ${command} ${args.join(' ')}]`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

export function makeWorkDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'mdpw-packaging-'));
}

export async function removeWorkDir(dir: string | undefined): Promise<void> {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
}

/** Packs the repository into `destination` with `npm pack`, from the dist/ that `npm test` has built. */
async function packInto(destination: string): Promise<PackedPackage> {
  if (!existsSync(join(REPO_ROOT, 'dist', 'lib', 'index.js'))) {
    throw new Error('dist/lib/index.js is missing: run `npm run build` first (`npm test` builds before jest).');
  }
  const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', destination], REPO_ROOT);
  if (packed.status !== 0) throw new Error(`npm pack failed:\n${packed.stderr}`);
  const [entry] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
  return { tarball: join(destination, entry.filename), files: entry.files.map((file) => file.path).sort() };
}

const PACK_MANIFEST = 'packed.json';
const PACK_FAILED = 'failed.txt';

/**
 * Packs the repository as `npm publish` would, once per jest run: the first suite that asks packs
 * into the run's directory (made by `globalSetup`), the others wait for that tarball (`npm pack`
 * costs about 1.6 s of CPU each time, and dist/ does not change during a run). Outside a run, packs
 * into `destination`.
 */
export async function packTarball(destination: string): Promise<PackedPackage> {
  // A directory given from outside outlives the run, and with it a tarball of an older build.
  const runDir = process.env[RUN_KEYS_MADE_VARIABLE] === '1' ? process.env[RUN_KEYS_VARIABLE] : undefined;
  if (runDir === undefined) return packInto(destination);
  const dir = join(runDir, 'package');
  try {
    // Only one suite of the run makes the directory; the others find it there.
    await mkdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const manifest = await waitForRunFile(join(dir, PACK_MANIFEST), join(dir, PACK_FAILED), INSTALL_TIMEOUT_MS, 'the run\'s tarball');
    return JSON.parse(manifest) as PackedPackage;
  }
  try {
    const packed = await packInto(dir);
    await writeFile(join(dir, `${PACK_MANIFEST}.tmp`), JSON.stringify(packed));
    await rename(join(dir, `${PACK_MANIFEST}.tmp`), join(dir, PACK_MANIFEST));
    return packed;
  } catch (error) {
    await writeFile(join(dir, PACK_FAILED), String((error as Error).message));
    throw error;
  }
}

/**
 * Creates a project in `parent/name` that depends on the tarball and `dependencies`, copies the
 * named files of __tests__/fixtures/consumers into it and runs `npm install`.
 */
export async function installConsumer(
  parent: string,
  name: string,
  tarball: string,
  dependencies: Record<string, string>,
  fixtures: readonly string[],
): Promise<ConsumerProject> {
  const dir = join(parent, name);
  await mkdir(dir);
  const manifest = {
    name: `consumer-${name}`,
    private: true,
    dependencies: { 'express-metadata-password': `file:${tarball}`, ...dependencies },
  };
  await writeFile(join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
  await Promise.all(fixtures.map((file) => copyFile(join(FIXTURES, file), join(dir, file))));
  await npmInstall(dir, []);
  return consumerAt(dir);
}

function consumerAt(dir: string): ConsumerProject {
  return { dir, node: (script, args = []) => run(process.execPath, [script, ...args], dir) };
}

/** `npm install [specs]` in `dir`, from the npm cache where it can; throws with npm's output when it fails. */
export async function npmInstall(dir: string, specs: readonly string[]): Promise<void> {
  const install = await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...specs], dir, INSTALL_TIMEOUT_MS);
  if (install.status !== 0) throw new Error(`npm install ${specs.join(' ')} in ${dir} failed:\n${install.stderr}`);
}

/**
 * Creates an empty project in `parent/name` and installs `steps` one `npm install` after the other,
 * as a user adds packages to a project that already has some: each step is a list of specs
 * (`ioredis@6.1.0`, a tarball path). Copies the named fixtures into it.
 */
export async function installInSteps(
  parent: string,
  name: string,
  steps: readonly (readonly string[])[],
  fixtures: readonly string[],
): Promise<ConsumerProject> {
  const dir = join(parent, name);
  await mkdir(dir);
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: `consumer-${name}`, private: true }, null, 2));
  await Promise.all(fixtures.map((file) => copyFile(join(FIXTURES, file), join(dir, file))));
  for (const specs of steps) await npmInstall(dir, specs);
  return consumerAt(dir);
}

/** Parses the one JSON line a fixture prints, failing with its output when it did not succeed. */
export function reportOf<T>(result: RunResult): T {
  if (result.status !== 0) throw new Error(`exit status ${result.status}\n${result.stderr}${result.stdout}`);
  return JSON.parse(result.stdout) as T;
}
