import { rmSync } from 'node:fs';
import { get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { launchChromium, type ChromiumSession } from '../examples/chromium';
import { createDemoHost, type DemoHost, type DemoInstance } from '../examples/demo-host';
import { describeWithChromium } from './helpers/chromium';

let demo: DemoHost;
let server: Server;
let passwordServer: Server;
let base: string;
let session: ChromiumSession | undefined;
let page: Page;

function token(projectId: string, role: 'reader' | 'member'): string {
  return [...demo.tokens].find(([, owner]) => owner.projectId === projectId && owner.role === role)![0];
}

/** What the guest's agent gets from the password server, asking from its own address. */
function agentAsks(instance: DemoInstance, word: string): Promise<string> {
  const port = (passwordServer.address() as AddressInfo).port;
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, localAddress: instance.address, headers: { DomU_Request: word } }, (response) => {
      let text = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve(text));
    }).on('error', reject);
  });
}

describeWithChromium('the console reset action')('the owner console: reset password', () => {
  beforeAll(async () => {
    demo = createDemoHost({ secret: 'demo-only-secret-0123456789abcdef' });
    server = demo.app.listen(0, '127.0.0.1');
    passwordServer = demo.passwordServer.listen(0, '127.0.0.1');
    await Promise.all([server, passwordServer].map((listening) => new Promise((ready) => listening.once('listening', ready))));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    session = await launchChromium();
    page = await session.context.newPage();
  }, 60_000);

  afterAll(async () => {
    await session?.close();
    server?.close();
    passwordServer?.close();
    if (demo !== undefined) rmSync(demo.keyDir, { recursive: true, force: true });
  });

  test('a member sets a new password that the agent fetches; a reader is refused', async () => {
    const [web] = demo.instances;
    await page.goto(`${base}/`);
    await page.selectOption('#token', token(web.projectId, 'member'));
    await page.locator(`tr[data-server-id="${web.id}"] button`).click();
    await page.locator('#retrieve:not([hidden])').waitFor();
    await page.click('#reset');
    await page.locator('#status', { hasText: 'New password for web-1' }).waitFor();
    const shown = /New password for web-1: (\S+) /.exec((await page.locator('#status').textContent()) ?? '')?.[1];
    expect(shown).toMatch(/^[\x21-\x7e]{20}$/);
    expect(await agentAsks(web, 'send_my_password')).toBe(shown);
    expect(await agentAsks(web, 'saved_password')).toBe('saved_password');
    expect(await demo.resets.pending(web.id)).toBe(false);

    await page.selectOption('#token', token(web.projectId, 'reader'));
    await page.locator(`tr[data-server-id="${web.id}"] button`).click();
    await page.locator('#retrieve:not([hidden])').waitFor();
    await page.click('#reset');
    await page.locator('#status.error', { hasText: 'Refused (403)' }).waitFor();
    expect(await demo.resets.pending(web.id)).toBe(false);
  });
});
