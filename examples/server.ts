import { rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createDemoHost } from './demo-host';

const port = Number(process.env.PORT ?? 8775);
// Where the agents ask: CloudStack's password server answers on port 8080.
const passwordServerPort = Number(process.env.PASSWORD_SERVER_PORT ?? 8080);
const host = process.env.HOST ?? '127.0.0.1';
const secret = process.env.METADATA_PROXY_SECRET ?? 'demo-only-secret-0123456789abcdef';

const demo = createDemoHost({
  secret,
  keyDir: process.env.DEMO_KEY_DIR,
  onEvent: (event) => console.log(`event ${event.type}`, JSON.stringify({ ...event, type: undefined })),
});

const passwordServer = createServer(demo.passwordServer);
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
  passwordServer.listen(passwordServerPort, host, () => {
    const passwordBase = `http://${host}:${(passwordServer.address() as AddressInfo).port}/`;
    console.log(`\nPassword server (CloudStack's protocol, owner-set passwords) on ${passwordBase}; guests by source address:`);
    for (const instance of demo.instances) console.log(`  ${instance.name.padEnd(6)} ${instance.address}`);
    console.log(`As its owner, set a password for ${first.name}; as the guest, fetch it, then acknowledge it:`);
    console.log(
      `  curl -si ${base}/compute/v2.1/servers/${first.id}/action -H 'X-Auth-Token: ${member}' -H 'Content-Type: application/json' -d '{"changePassword": {"adminPass": "Owner-Chosen-42"}}'`,
    );
    console.log(`  curl -s --interface ${first.address} ${passwordBase} -H 'DomU_Request: send_my_password'`);
    console.log(`  curl -s --interface ${first.address} ${passwordBase} -H 'DomU_Request: saved_password'`);
  });
});


function stop(): void {
  // A key directory the demo made for itself goes with it; one named by DEMO_KEY_DIR stays.
  if (process.env.DEMO_KEY_DIR === undefined) rmSync(demo.keyDir, { recursive: true, force: true });
  passwordServer.close();
  passwordServer.closeAllConnections();
  server.close(() => process.exit(0));
  server.closeAllConnections();
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
