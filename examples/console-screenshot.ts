// `npm run screenshot`: writes docs/console.png, the owner console with a decrypted password, for
// the README. Runs the demo host on a free port and drives Debian's chromium through playwright-core.
import { readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { encryptPassword } from '../lib/crypto';
import { launchChromium } from './chromium';
import { createDemoHost } from './demo-host';

const OUTPUT = join(__dirname, '..', '..', 'docs', 'console.png');
const PASSWORD = 'Grüße-✓-S3cret';

async function main(): Promise<void> {
  const demo = createDemoHost({ secret: 'demo-only-secret-0123456789abcdef' });
  const server = demo.app.listen(0, '127.0.0.1');
  await new Promise((ready) => server.once('listening', ready));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const session = await launchChromium();
  try {
    const [web] = demo.instances;
    const ciphertext = encryptPassword(PASSWORD, readFileSync(web.key.publicKeyFile, 'utf8'));
    await demo.service.setOnce(web.id, ciphertext);
    const member = [...demo.tokens].find(([, owner]) => owner.projectId === web.projectId && owner.role === 'member')![0];

    const page = await session.context.newPage();
    await page.goto(`${base}/`);
    await page.selectOption('#token', member);
    await page.locator(`tr[data-server-id="${web.id}"] button`).click();
    await page.locator('#retrieve:not([hidden])').waitFor();
    await page.fill('#key', readFileSync(web.key.privateKeyFile, 'utf8'));
    await page.click('#decrypt');
    await page.locator('#result:not([hidden])').waitFor();
    await page.screenshot({ path: OUTPUT, fullPage: true });
    console.log(`Wrote ${OUTPUT}`);
  } finally {
    await session.close();
    server.close();
    rmSync(demo.keyDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
