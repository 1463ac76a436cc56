import { rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createDemoHost } from './demo-host';

const port = Number(process.env.PORT ?? 8775);
const host = process.env.HOST ?? '127.0.0.1';
const secret = process.env.METADATA_PROXY_SECRET ?? 'demo-only-secret-0123456789abcdef';

const demo = createDemoHost({
  secret,
  keyDir: process.env.DEMO_KEY_DIR,
  onEvent: (event) => console.log(`event ${event.type}`, JSON.stringify({ ...event, type: undefined })),
});

const server = demo.app.listen(port, host, () => {
  const base = `http://${host}:${(server.address() as AddressInfo).port}`;
  const [first] = demo.instances;
  const header = (headers: Record<string, string>) =>
    Object.entries(headers)
      .map(([name, value]) => `-H '${name}: ${value}'`)
      .join(' ');
  console.log(`express-metadata-password demo on ${base} (embedded MemoryStore; owner keys in ${demo.keyDir})\n`);
  console.log('Instances:');
  for (const instance of demo.instances) {
    console.log(`  ${instance.name.padEnd(6)} ${instance.id}  project ${instance.projectId}, key ${instance.key.privateKeyFile}`);
  }
  console.log('\nOwner tokens (X-Auth-Token):');
  for (const [token, owner] of demo.tokens) console.log(`  ${owner.projectId} ${owner.role.padEnd(6)} ${token}`);
  const guest = header(demo.guestHeaders(first));
  const member = [...demo.tokens].find(([, owner]) => owner.projectId === first.projectId && owner.role === 'member')?.[0];
  console.log(`\nAs the guest ${first.name}, post an encrypted password, then read it back:`);
  console.log(
    `  curl -si ${base}/openstack/latest/password ${guest} --data-binary "$(printf %s 'S3cret-demo' | openssl pkeyutl -encrypt -pubin -inkey ${first.key.publicKeyFile} | base64 -w0)"`,
  );
  console.log(`  curl -si ${base}/openstack/latest/password ${guest}`);
  console.log(`\nAs its owner, read it, then clear it:`);
  console.log(`  curl -s ${base}/compute/v2.1/servers/${first.id}/os-server-password -H 'X-Auth-Token: ${member}'`);
  console.log(`  curl -si -X DELETE ${base}/compute/v2.1/servers/${first.id}/os-server-password -H 'X-Auth-Token: ${member}'`);
});

function stop(): void {
  // A key directory the demo made for itself goes with it; one named by DEMO_KEY_DIR stays.
  if (process.env.DEMO_KEY_DIR === undefined) rmSync(demo.keyDir, { recursive: true, force: true });
  server.close(() => process.exit(0));
  server.closeAllConnections();
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
