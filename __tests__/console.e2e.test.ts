import { readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ConsoleMessage, Page } from 'playwright-core';
import { launchChromium, type ChromiumSession } from '../examples/chromium';
import { createDemoHost, type DemoHost, type DemoInstance } from '../examples/demo-host';
import { CONSOLE_CSP } from '../examples/owner-console';
import { encryptPassword } from '../lib/crypto';
import { describeWithChromium } from './helpers/chromium';

const PASSWORD = 'Grüße-✓-密码-42';

interface RecordedRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string;
}

let demo: DemoHost;
let server: Server;
let base: string;
let session: ChromiumSession | undefined;
let page: Page;
const requests: Promise<RecordedRequest>[] = [];
const problems: Array<{ text: string; url: string }> = [];

function token(projectId: string, role: 'reader' | 'member'): string {
  return [...demo.tokens].find(([, owner]) => owner.projectId === projectId && owner.role === role)![0];
}

/** The guest's agent posting its password, through the signed guest route. */
async function guestPosts(instance: DemoInstance, password: string): Promise<void> {
  const ciphertext = encryptPassword(password, readFileSync(instance.key.publicKeyFile, 'utf8'));
  const answer = await fetch(`${base}/openstack/latest/password`, { method: 'POST', headers: demo.guestHeaders(instance), body: ciphertext });
  expect(answer.status).toBe(200);
}

async function ownerReads(instance: DemoInstance): Promise<string> {
  const answer = await fetch(`${base}/compute/v2.1/servers/${instance.id}/os-server-password`, {
    headers: { 'X-Auth-Token': token(instance.projectId, 'member') },
  });
  return ((await answer.json()) as { password: string }).password;
}

function row(instance: DemoInstance) {
  return page.locator(`tr[data-server-id="${instance.id}"]`);
}

describeWithChromium('the owner console end to end')('the owner console in Chromium', () => {
  beforeAll(async () => {
    demo = createDemoHost({ secret: 'demo-only-secret-0123456789abcdef' });
    server = demo.app.listen(0, '127.0.0.1');
    await new Promise((ready) => server.once('listening', ready));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    session = await launchChromium();
    page = await session.context.newPage();
    page.on('request', (request) =>
      requests.push(
        request.allHeaders().then((headers) => ({ url: request.url(), method: request.method(), headers, body: request.postData() ?? '' })),
      ),
    );
    page.on('console', (message: ConsoleMessage) => {
      if (message.type() === 'error' || message.type() === 'warning') {
        problems.push({ text: `console ${message.type()}: ${message.text()}`, url: message.location().url });
      }
    });
    page.on('pageerror', (error) => problems.push({ text: `page error: ${error.message}`, url: '' }));
    await page.addInitScript(
      `document.addEventListener('securitypolicyviolation', (event) => console.error('CSP violation: ' + event.violatedDirective + ' ' + event.blockedURI));`,
    );
  }, 60_000);

  afterAll(async () => {
    await session?.close();
    server?.close();
    if (demo !== undefined) rmSync(demo.keyDir, { recursive: true, force: true });
  });

  test('serves the page with exactly the console CSP', async () => {
    const answer = await page.goto(`${base}/`);
    expect(answer?.status()).toBe(200);
    expect(answer?.headers()['content-security-policy']).toBe(CONSOLE_CSP);
    expect(CONSOLE_CSP).toBe(
      "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; form-action 'none'; frame-ancestors 'none'",
    );
    await expect(page.locator('.promise').textContent()).resolves.toContain('never leaves this page');
  });

  test('a member retrieves, decrypts, copies and clears; a reader is refused the clear, with the 403 explained', async () => {
    const [web, db] = demo.instances;
    const key = readFileSync(web.key.privateKeyFile, 'utf8');
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });

    await page.selectOption('#token', token('demo-a', 'member'));
    await row(web).waitFor();
    expect(await row(web).locator('.badge').textContent()).toBe('none');
    expect(await row(db).locator('td').nth(0).textContent()).toBe('db-1');
    expect(await page.locator('tbody tr').count()).toBe(2);

    await guestPosts(web, PASSWORD);
    await page.click('#refresh');
    await page.locator(`tr[data-server-id="${web.id}"] .badge.set`).waitFor();

    await row(web).locator('button').click();
    await page.locator('#retrieve:not([hidden])').waitFor();
    expect(await page.locator('#ciphertext').textContent()).toBe(await ownerReads(web));

    await page.fill('#key', key);
    await page.click('#decrypt');
    await page.locator('#result:not([hidden])').waitFor();
    expect(await page.locator('#password').textContent()).toBe(PASSWORD);
    await page.click('#copy');
    await page.locator('#status', { hasText: 'Copied' }).waitFor();
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(PASSWORD);

    await page.click('#clear');
    await page.locator('#status', { hasText: 'Cleared' }).waitFor();
    expect(await row(web).locator('.badge').textContent()).toBe('none');
    expect(await ownerReads(web)).toBe('');

    await guestPosts(web, 'second-Pässword');
    await page.selectOption('#token', token('demo-a', 'reader'));
    await page.locator(`tr[data-server-id="${web.id}"] .badge.set`).waitFor();
    await row(web).locator('button').click();
    await page.locator('#retrieve:not([hidden])').waitFor();
    await page.setInputFiles('#key-file', web.key.privateKeyFile);
    await page.locator('#status', { hasText: 'Read alice.pem' }).waitFor();
    await page.click('#decrypt');
    await page.locator('#result:not([hidden])').waitFor();
    expect(await page.locator('#password').textContent()).toBe('second-Pässword');
    await page.click('#clear');
    const refusal = page.locator('#status.error');
    await refusal.waitFor();
    expect(await refusal.textContent()).toMatch(/^Refused \(403\): A project reader may not clear this password\. .*only a member may clear/);
    expect(await ownerReads(web)).not.toBe('');

    await page.fill('#key', readFileSync(demo.instances[2].key.privateKeyFile, 'utf8'));
    await page.click('#decrypt');
    await page.locator('#status.error', { hasText: 'Decryption failed' }).waitFor();
    expect(await page.locator('#result').isHidden()).toBe(true);
  });

  test('the key is forgotten on a change of token, a change of server and after a clear; "Forget the key" empties the file input too', async () => {
    const [web, db] = demo.instances;
    const key = readFileSync(web.key.privateKeyFile, 'utf8');
    const keyText = () => page.locator('#key').inputValue();
    const chosenFiles = () => page.locator('#key-file').evaluate((input) => (input as { files: ArrayLike<unknown> | null }).files?.length ?? 0);
    const open = async (instance: DemoInstance) => {
      await row(instance).locator('button').click();
      await page.locator('#server-name', { hasText: instance.name }).waitFor();
      await page.locator('#retrieve:not([hidden])').waitFor();
    };
    const chooseKeyFile = async () => {
      await page.setInputFiles('#key-file', web.key.privateKeyFile);
      await page.locator('#status', { hasText: 'Read alice.pem' }).waitFor();
      expect(await keyText()).toBe(key);
      expect(await chosenFiles()).toBe(1);
    };

    await page.selectOption('#token', token('demo-a', 'member'));
    await row(web).waitFor();
    await open(web);
    await page.fill('#key', key);
    await page.selectOption('#token', token('demo-a', 'reader'));
    await page.locator('#retrieve[hidden]').waitFor({ state: 'attached' });
    expect(await keyText()).toBe('');

    await page.selectOption('#token', token('demo-a', 'member'));
    await row(web).waitFor();
    await open(web);
    await chooseKeyFile();
    await open(db);
    expect(await keyText()).toBe('');
    expect(await chosenFiles()).toBe(0);

    await guestPosts(db, 'third-Pässword');
    await page.click('#refresh');
    await page.locator(`tr[data-server-id="${db.id}"] .badge.set`).waitFor();
    await open(db);
    await page.fill('#key', key);
    await page.click('#clear');
    await page.locator('#status', { hasText: 'Cleared' }).waitFor();
    expect(await keyText()).toBe('');

    await page.setInputFiles('#key-file', { name: 'huge.pem', mimeType: 'text/plain', buffer: Buffer.alloc(64 * 1024 + 1, 0x41) });
    await page.locator('#status.error', { hasText: 'That file is too large to be a private key.' }).waitFor();
    expect(await keyText()).toBe('');

    await open(web);
    await chooseKeyFile();
    await page.click('#forget');
    await page.locator('#status', { hasText: 'The key is gone from the page.' }).waitFor();
    expect(await keyText()).toBe('');
    expect(await chosenFiles()).toBe(0);
  });

  test('"Wait for the guest" shows a waiting state until the agent posts, and can be cancelled', async () => {
    const [, db] = demo.instances;
    const key = readFileSync(db.key.privateKeyFile, 'utf8');
    await page.selectOption('#token', token('demo-a', 'member'));
    await row(db).waitFor();
    await row(db).locator('button').click();
    await page.locator('#retrieve:not([hidden])').waitFor();
    expect(await page.locator('#ciphertext').textContent()).toContain('has not posted a password yet');

    // Cancelled: the waiting state goes and the button comes back.
    await page.click('#wait');
    await page.locator('#waiting:not([hidden])').waitFor();
    expect(await page.locator('#wait-row').isHidden()).toBe(true);
    await page.click('#cancel-wait');
    await page.locator('#status', { hasText: 'Stopped waiting for db-1' }).waitFor();
    expect(await page.locator('#waiting').isHidden()).toBe(true);
    expect(await page.locator('#wait-row').isVisible()).toBe(true);

    // Waited for: the password shows as soon as the agent posts it.
    await page.click('#wait');
    await page.locator('#waiting:not([hidden])').waitFor();
    await page.locator('#status', { hasText: 'Waiting for db-1' }).waitFor();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await page.locator('#waiting').isVisible()).toBe(true);
    await guestPosts(db, 'waited-Pässword');
    await page.locator('#status', { hasText: 'db-1 posted its password' }).waitFor({ timeout: 5000 });
    expect(await page.locator('#waiting').isHidden()).toBe(true);
    expect(await page.locator('#ciphertext').textContent()).toBe(await ownerReads(db));
    await page.locator(`tr[data-server-id="${db.id}"] .badge.set`).waitFor();
    await page.fill('#key', key);
    await page.click('#decrypt');
    await page.locator('#result:not([hidden])').waitFor();
    expect(await page.locator('#password').textContent()).toBe('waited-Pässword');
    // Cleared again, so the guest may post anew.
    await page.click('#clear');
    await page.locator('#status', { hasText: 'Cleared' }).waitFor();
  });

  test('a decrypted password with control or format characters is not shown: it may be forged', async () => {
    const [, db] = demo.instances;
    await page.selectOption('#token', token('demo-a', 'member'));
    await row(db).waitFor();
    await guestPosts(db, 'Real\u202Egnp.exe\rFake');
    await page.click('#refresh');
    await page.locator(`tr[data-server-id="${db.id}"] .badge.set`).waitFor();
    await row(db).locator('button').click();
    await page.locator('#retrieve:not([hidden])').waitFor();
    await page.fill('#key', readFileSync(db.key.privateKeyFile, 'utf8'));
    await page.click('#decrypt');
    const refusal = page.locator('#status.error', { hasText: 'may be forged' });
    await refusal.waitFor();
    expect(await refusal.textContent()).toContain('(U+202E, U+000D)');
    expect(await refusal.textContent()).not.toContain('gnp');
    expect(await page.locator('#result').isHidden()).toBe(true);
    expect(await page.locator('#password').textContent()).toBe('');
  });

  test('no request the page made carries the private key or the password; no console errors, no CSP violations', async () => {
    const recorded = await Promise.all(requests);
    const keys = demo.instances.map((instance) => readFileSync(instance.key.privateKeyFile, 'utf8'));
    const keyLines = keys.flatMap((text) => text.split('\n').filter((line) => /^[A-Za-z0-9+/=]{40,}$/.test(line)));
    expect(keyLines.length).toBeGreaterThan(20);
    const methods = new Set(recorded.map((request) => request.method));
    expect([...methods].sort()).toEqual(['DELETE', 'GET']);
    for (const request of recorded) {
      const sent = JSON.stringify(request);
      for (const line of keyLines) expect(sent).not.toContain(line);
      expect(sent).not.toContain(PASSWORD);
      expect(sent).not.toContain('second-P');
      expect(sent).not.toContain('waited-P');
      expect(sent).not.toContain('third-P');
      expect(sent).not.toContain('gnp.exe');
      expect(new URL(request.url).origin).toBe(base);
    }
    expect(recorded.map((request) => new URL(request.url).pathname)).toEqual(
      expect.arrayContaining(['/', '/console/app.js', '/console/console.css', '/lib/browser/index.js', '/demo/owners', '/compute/v2.1/servers']),
    );
    // Chromium logs every refused fetch as "Failed to load resource": the reader's refused clear is
    // the one expected; anything else (a 404, a CSP violation, an exception) is a defect.
    const refusedClear = `${base}/compute/v2.1/servers/${demo.instances[0].id}/os-server-password`;
    const expected = (problem: { text: string; url: string }) =>
      problem.url === refusedClear && problem.text.endsWith('status of 403 (Forbidden)');
    expect(problems.filter(expected)).toHaveLength(1);
    expect(problems.filter((problem) => !expected(problem))).toEqual([]);
  });
});
