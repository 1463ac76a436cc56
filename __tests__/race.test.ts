import { Agent, request as httpRequest } from 'node:http';
import { ciphertext, guestApp } from './helpers/app';
import { listen } from './helpers/raw-http';

function post(port: number, agent: Agent, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { port, host: '127.0.0.1', method: 'POST', path: '/openstack/latest/password', agent, headers: { 'X-Test-Instance': 'i-race' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('guest router: atomic set-once', () => {
  it('gives exactly one 200 and 199 409s to 200 concurrent POSTs, and GET returns the winner', async () => {
    const { app, service, events } = guestApp();
    const server = await listen(app);
    const agent = new Agent({ keepAlive: true, maxSockets: 200 });
    try {
      const bodies = Array.from({ length: 200 }, () => ciphertext());
      const statuses = await Promise.all(bodies.map((body) => post(server.port, agent, body)));
      expect(statuses.filter((status) => status === 200)).toHaveLength(1);
      expect(statuses.filter((status) => status === 409)).toHaveLength(199);
      const winner = bodies[statuses.indexOf(200)];
      expect(await service.get('i-race')).toBe(winner);
      expect(events.filter((event) => event.type === 'password.set')).toHaveLength(1);
      expect(events.filter((event) => event.type === 'password.conflict')).toHaveLength(199);
    } finally {
      agent.destroy();
      await server.close();
    }
  });
});
