import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page, Route } from 'playwright-core';
import { launchChromium, type ChromiumSession } from '../examples/chromium';
import { badPkcs1Blocks, makeBrowserKeySets, opensslCases, opensslRawEncrypt, type DecryptCase } from './helpers/browser-cases';
import { describeWithChromium } from './helpers/chromium';
import { makeKeyDir, makeRsaKeySet, opensslEncrypt, removeKeyDir, type RsaKeySet } from './helpers/crypto-keys';

// The browser module's own build, loaded by Chromium as an ES module from a page with no server:
// Playwright answers the page's requests from dist/lib/browser.
const BUILD = resolve(__dirname, '../dist/lib/browser');
/** A secure context (https), as WebCrypto requires; Playwright answers it, so no certificate is involved. */
const ORIGIN = 'https://browser-module.test';
const INSECURE_ORIGIN = 'http://browser-module.test';

type BrowserModule = typeof import('../lib/browser');
type Outcome = { password: string } | { code: string; message: string };

let dir: string | undefined;
let keySets: RsaKeySet[];
let other1024: RsaKeySet;
let cases: DecryptCase[];
let session: ChromiumSession | undefined;
let page: Page;

/** Answers the module page's own requests: the page, and the module's files from the build. */
function serveModule(route: Route): Promise<void> {
  const path = new URL(route.request().url()).pathname;
  if (path === '/') return route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>module</title>' });
  const file = join(BUILD, path.replace(/^\/browser\//, ''));
  if (!path.startsWith('/browser/') || !existsSync(file)) return route.fulfill({ status: 404, body: '' });
  return route.fulfill({ contentType: 'text/javascript', body: readFileSync(file) });
}

async function openModulePage(origin: string): Promise<Page> {
  if (!existsSync(join(BUILD, 'index.js'))) throw new Error(`${BUILD} is missing: run \`npm run build\` first.`);
  const opened = await session!.context.newPage();
  await opened.route(`${origin}/**`, serveModule);
  await opened.goto(`${origin}/`);
  await opened.evaluate(`import('/browser/index.js').then((module) => { globalThis.browserModule = module; })`);
  return opened;
}

/** Runs `decryptPassword` in the page on each input and reports each outcome. */
function decryptInPage(
  inputs: ReadonlyArray<{ ciphertext: string; privateKey: string; padding?: string }>,
  on = page,
): Promise<Outcome[]> {
  return on.evaluate(async (items) => {
    const { decryptPassword } = (globalThis as unknown as { browserModule: BrowserModule }).browserModule;
    const outcomes: Outcome[] = [];
    for (const item of items) {
      try {
        outcomes.push({ password: await decryptPassword(item.ciphertext, item.privateKey, { padding: item.padding as never }) });
      } catch (error) {
        outcomes.push({ code: (error as { code: string }).code, message: (error as Error).message });
      }
    }
    return outcomes;
  }, inputs);
}

function unencrypted(set: RsaKeySet, format: 'openssh' | 'pem' | 'pkcs8'): string {
  return set.privateKeys.find((key) => key.format === format && key.passphrase === undefined)!.text;
}

describeWithChromium('the browser module in Chromium')('the browser module in Chromium', () => {
  beforeAll(async () => {
    dir = makeKeyDir();
    const keyDir = dir;
    [keySets, other1024, session] = await Promise.all([makeBrowserKeySets(keyDir), makeRsaKeySet(keyDir, 1024, 'other-rsa-1024'), launchChromium()]);
    cases = opensslCases(keySets);
    page = await openModulePage(ORIGIN);
  }, 120_000);

  afterAll(async () => {
    await session?.close();
    removeKeyDir(dir);
  });

  test('opens every openssl ciphertext: 1024-, 2048- and 4096-bit keys, PKCS#1, PKCS#8 and OpenSSH, both paddings', async () => {
    const outcomes = await decryptInPage(cases);
    expect(outcomes).toEqual(cases.map((item) => ({ password: item.password })));
  });

  test('refuses what it cannot open, with the same codes as in Node', async () => {
    const set = keySets.find((candidate) => candidate.bits === 1024)!;
    const ciphertext = opensslEncrypt(set.spkiPath, Buffer.from('Passw0rd'), 'pkcs1');
    const bad = badPkcs1Blocks(128);
    const inputs = [
      ...set.privateKeys.filter((key) => key.passphrase !== undefined).map((key) => ({ ciphertext, privateKey: key.text })),
      { ciphertext, privateKey: unencrypted(other1024, 'pem') },
      { ciphertext: opensslEncrypt(set.spkiPath, Buffer.from('Passw0rd'), 'oaep-sha256'), privateKey: unencrypted(other1024, 'pkcs8'), padding: 'oaep-sha256' },
      { ciphertext: opensslEncrypt(keySets[1].spkiPath, Buffer.from('x'), 'pkcs1'), privateKey: unencrypted(set, 'openssh') },
      ...Object.values(bad).map((block) => ({ ciphertext: opensslRawEncrypt(set.spkiPath, block), privateKey: unencrypted(set, 'pkcs8') })),
      { ciphertext: 'not base64!', privateKey: unencrypted(set, 'pem') },
      { ciphertext, privateKey: set.sshPublicLine },
    ];
    const outcomes = await decryptInPage(inputs);
    expect(outcomes.map((outcome) => ('code' in outcome ? outcome.code : outcome))).toEqual([
      'ERR_ENCRYPTED_KEY',
      'ERR_ENCRYPTED_KEY',
      'ERR_ENCRYPTED_KEY',
      'ERR_DECRYPTION_FAILED',
      'ERR_DECRYPTION_FAILED',
      'ERR_KEY_SIZE_MISMATCH',
      ...Object.keys(bad).map(() => 'ERR_DECRYPTION_FAILED'),
      'ERR_CORRUPT_CIPHERTEXT',
      'ERR_INVALID_KEY',
    ]);
    expect((outcomes[0] as { message: string }).message).toContain('metadata-password decrypt');
  });

  test.each([302, 307])(
    'getServerPassword and clearServerPassword refuse a %i to another origin: nothing reaches it, no token, no replayed DELETE',
    async (status) => {
      const elsewhere: Array<{ method: string; token: string | undefined }> = [];
      const api: Array<{ method: string; token: string | undefined }> = [];
      await page.route('https://elsewhere.test/**', async (route) => {
        elsewhere.push({ method: route.request().method(), token: (await route.request().allHeaders())['x-auth-token'] });
        await route.fulfill({ status: 200, contentType: 'application/json', body: '{"password":""}', headers: { 'Access-Control-Allow-Origin': '*' } });
      });
      await page.route(`${ORIGIN}/compute/**`, async (route) => {
        api.push({ method: route.request().method(), token: (await route.request().allHeaders())['x-auth-token'] });
        await route.fulfill({ status, headers: { Location: 'https://elsewhere.test/compute/servers/web-1/os-server-password' }, body: '' });
      });
      try {
        const outcomes = await page.evaluate(async () => {
          const { getServerPassword, clearServerPassword } = (globalThis as unknown as { browserModule: BrowserModule }).browserModule;
          const request = { url: '/compute', serverId: 'web-1', token: 'owner-token-0123' };
          const results: Array<{ status: number; message: string } | string> = [];
          for (const call of [getServerPassword, clearServerPassword]) {
            try {
              results.push(`resolved ${JSON.stringify(await call(request))}`);
            } catch (error) {
              results.push({ status: (error as { status: number }).status, message: (error as Error).message });
            }
          }
          return results;
        });
        expect(outcomes).toEqual([0, 0].map((code) => ({ status: code, message: expect.stringContaining('redirect, which is not followed') })));
        expect(api).toEqual([
          { method: 'GET', token: 'owner-token-0123' },
          { method: 'DELETE', token: 'owner-token-0123' },
        ]);
        expect(elsewhere).toEqual([]);
      } finally {
        await page.unrouteAll();
        await page.route(`${ORIGIN}/**`, serveModule);
      }
    },
  );

  test('a call with no answer gives up at timeoutMs and aborts its request', async () => {
    const pending: Array<() => void> = [];
    await page.route(`${ORIGIN}/compute/**`, (route) => new Promise<void>((resolve) => pending.push(() => void route.abort().then(resolve, resolve))));
    try {
      const outcome = await page.evaluate(async () => {
        const { getServerPassword } = (globalThis as unknown as { browserModule: BrowserModule }).browserModule;
        try {
          return `resolved ${await getServerPassword({ url: '/compute', serverId: 'web-1', token: 't', timeoutMs: 1000 })}`;
        } catch (error) {
          return { status: (error as { status: number }).status, message: (error as Error).message };
        }
      });
      expect(outcome).toEqual({ status: 0, message: 'The compute API did not answer within 1 s (`timeoutMs`): it is down, overloaded or too slow.' });
    } finally {
      for (const release of pending) release();
      await page.unrouteAll();
      await page.route(`${ORIGIN}/**`, serveModule);
    }
  });

  test('on a page that is not a secure context: PKCS#1 still decrypts, OAEP says what to change', async () => {
    const insecure = await openModulePage(INSECURE_ORIGIN);
    try {
      const set = keySets[0];
      const outcomes = await decryptInPage(
        (['pkcs1', 'oaep-sha256'] as const).map((padding) => ({
          ciphertext: opensslEncrypt(set.spkiPath, Buffer.from('Grüße'), padding),
          privateKey: unencrypted(set, 'pem'),
          padding,
        })),
        insecure,
      );
      expect(outcomes).toEqual([{ password: 'Grüße' }, { code: 'ERR_WEBCRYPTO_UNAVAILABLE', message: expect.stringContaining('HTTPS') }]);
    } finally {
      await insecure.close();
    }
  });
});
