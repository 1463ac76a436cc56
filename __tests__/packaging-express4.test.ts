import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PasswordEvent } from '../lib/types';
import { expectAdopterFlow, makeHostFixture } from './helpers/express4-host-flow';
import {
  expectGuestAndOwnerFlow,
  expectRejectedHookAnswers500,
  startRoutersApp,
  type RunningApp,
} from './helpers/packaging-app';
import { installConsumer, lockedVersion, makeWorkDir, packTarball, removeWorkDir, REPO_ROOT } from './helpers/packaging-project';

// The oldest Express the peer range allows; Express 4 leaves rejected promises of handlers uncaught.
const EXPRESS_4 = '4.21.2';

describe('Express 4 apps from the packed tarball', () => {
  const fixture = makeHostFixture();
  let workDir: string | undefined;
  let app: RunningApp;
  let host: RunningApp;

  beforeAll(async () => {
    workDir = await makeWorkDir();
    const { tarball } = await packTarball(workDir);
    const consumer = await installConsumer(
      workDir,
      'express4',
      tarball,
      { express: EXPRESS_4, ioredis: lockedVersion('ioredis') },
      ['routers-app.cjs', 'express4-host-app.cjs'],
    );
    // The adopter's example as `npm run build` compiled it, importing the package by its name.
    await copyFile(join(REPO_ROOT, 'dist', 'examples', 'express4-host.js'), join(consumer.dir, 'express4-host.js'));
    const { privateKey: _ownersOnly, ...hostFixture } = fixture;
    [app, host] = await Promise.all([
      startRoutersApp(consumer),
      startRoutersApp(consumer, 'express4-host-app.cjs', { HOST_FIXTURE: JSON.stringify(hostFixture) }),
    ]);
  }, 180_000);

  afterAll(async () => {
    await Promise.all([app?.stop(), host?.stop()]);
    await removeWorkDir(workDir);
  });

  describe('both routers on one service', () => {
    test(`runs on Express ${EXPRESS_4}`, () => {
      expect(app.expressVersion).toBe(EXPRESS_4);
    });

    test('stores a guest POST, answers it to the guest and to the owner', () => expectGuestAndOwnerFlow(app));

    test('answers 500 JSON when a hook rejects, and keeps serving', () => expectRejectedHookAnswers500(app));
  });

  describe('examples/express4-host, compiled', () => {
    test(`runs on Express ${EXPRESS_4}`, () => {
      expect(host.expressVersion).toBe(EXPRESS_4);
    });

    test('serves the host metadata routes, the guest and owner flow, and rebuild', async () => {
      const events = (): PasswordEvent[] =>
        host
          .stderr()
          .split('\n')
          .filter((line) => line.startsWith('event '))
          .map((line) => JSON.parse(line.slice('event '.length)) as PasswordEvent);
      await expectAdopterFlow(host.url, fixture, events);
      expect(host.isRunning()).toBe(true);
    });
  });
});
