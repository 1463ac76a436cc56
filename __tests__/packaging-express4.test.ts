import {
  expectGuestAndOwnerFlow,
  expectRejectedHookAnswers500,
  startRoutersApp,
  type RunningApp,
} from './helpers/packaging-app';
import { installConsumer, makeWorkDir, packTarball, removeWorkDir } from './helpers/packaging-project';

// The oldest Express the peer range allows; Express 4 leaves rejected promises of handlers uncaught.
const EXPRESS_4 = '4.21.2';

describe('Express 4 app with both routers, from the packed tarball', () => {
  let workDir: string | undefined;
  let app: RunningApp;

  beforeAll(async () => {
    workDir = await makeWorkDir();
    const { tarball } = await packTarball(workDir);
    const consumer = await installConsumer(workDir, 'express4', tarball, { express: EXPRESS_4 }, ['routers-app.cjs']);
    app = await startRoutersApp(consumer);
  }, 180_000);

  afterAll(async () => {
    await app?.stop();
    await removeWorkDir(workDir);
  });

  test(`runs on Express ${EXPRESS_4}`, () => {
    expect(app.expressVersion).toBe(EXPRESS_4);
  });

  test('stores a guest POST, answers it to the guest and to the owner', () => expectGuestAndOwnerFlow(app));

  test('answers 500 JSON when a hook rejects, and keeps serving', () => expectRejectedHookAnswers500(app));
});
