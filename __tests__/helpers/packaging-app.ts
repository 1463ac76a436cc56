import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import request from 'supertest';
import { childEnv, type ConsumerProject } from './packaging-project';

const START_TIMEOUT_MS = 15_000;

export interface RunningApp {
  readonly url: string;
  readonly expressVersion: string;
  /** Everything the app wrote to stderr so far. */
  stderr(): string;
  isRunning(): boolean;
  stop(): Promise<void>;
}

/**
 * Starts an app fixture of `project` (default routers-app.cjs) and resolves once it listens: the
 * fixture prints one line, `{"port": ..., "expressVersion": ...}`.
 */
export async function startRoutersApp(
  project: ConsumerProject,
  script = 'routers-app.cjs',
  env: NodeJS.ProcessEnv = {},
): Promise<RunningApp> {
  const child = spawn(process.execPath, [script], { cwd: project.dir, env: { ...childEnv(), ...env } });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const isRunning = (): boolean => child.exitCode === null && child.signalCode === null;
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const stop = async (): Promise<void> => {
    if (isRunning()) child.kill();
    await exited;
  };

  let timer: NodeJS.Timeout | undefined;
  const listening = once(createInterface({ input: child.stdout }), 'line') as Promise<[string]>;
  const failed = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not listen within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
    void exited.then((status) => reject(new Error(`exited with status ${status} before listening`)));
  });
  try {
    const [line] = await Promise.race([listening, failed]);
    const { port, expressVersion } = JSON.parse(line) as { port: number; expressVersion: string };
    return { url: `http://127.0.0.1:${port}`, expressVersion, stderr: () => stderr, isRunning, stop };
  } catch (error) {
    await stop();
    throw new Error(`${script} ${(error as Error).message}\n${stderr}`);
  } finally {
    clearTimeout(timer);
  }
}

/** A guest posts a ciphertext once and reads it back; the owner reads it through the compute API. */
export async function expectGuestAndOwnerFlow(app: RunningApp): Promise<void> {
  const ciphertext = randomBytes(256).toString('base64');
  const guestPath = '/openstack/latest/password';
  await request(app.url)
    .post(guestPath)
    .set('X-Instance-Id', 'i-flow')
    .type('form')
    .send(ciphertext)
    .expect(200, '');
  await request(app.url).post(guestPath).set('X-Instance-Id', 'i-flow').send(ciphertext).expect(409);
  const guestRead = await request(app.url).get(guestPath).set('X-Instance-Id', 'i-flow').expect(200);
  expect(guestRead.text).toBe(ciphertext);
  const ownerRead = await request(app.url)
    .get('/compute/v2.1/servers/i-flow/os-server-password')
    .set('X-User', 'alice')
    .expect(200);
  expect(ownerRead.body).toEqual({ password: ciphertext });
}

/**
 * An `authenticate` hook whose promise rejects answers 500 JSON without the error's message, which
 * goes to the logger, and the app keeps serving.
 */
export async function expectRejectedHookAnswers500(app: RunningApp): Promise<void> {
  const ownerPath = '/compute/v2.1/servers/i-broken/os-server-password';
  const answer = await request(app.url).get(ownerPath).set('X-User', 'broken').timeout(5000);
  expect(answer.status).toBe(500);
  expect(answer.type).toBe('application/json');
  expect(answer.body).toEqual({ error: { code: 'INTERNAL', message: expect.any(String) } });
  expect(answer.text).not.toContain('identity backend down');
  await request(app.url).get(ownerPath).set('X-User', 'alice').expect(200, { password: '' });
  expect(app.isRunning()).toBe(true);
  await until(() => app.stderr().includes('identity backend down'));
  expect(app.stderr()).toContain('identity backend down');
}

/** Resolves once `condition` holds or `timeoutMs` has passed: stderr may trail the HTTP answer. */
async function until(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
}
