import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A request the fake owner API received. */
export interface ReceivedRequest {
  readonly method: string;
  readonly path: string;
  readonly token: string | undefined;
  readonly accept: string | undefined;
}

/** A local HTTP server answering `GET {base}/servers/{id}/os-server-password` like the owner API. */
export interface FakeOwnerApi {
  /** The compute base URL to pass as `--url`. */
  readonly baseUrl: string;
  readonly requests: ReceivedRequest[];
  close(): Promise<void>;
}

const BASE_PATH = '/compute/v2.1';
const PASSWORD_PATH = new RegExp(`^${BASE_PATH}/servers/([^/]+)/os-server-password$`);

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}

/**
 * Starts the server on 127.0.0.1 with an ephemeral port. `passwords` maps server ids to the stored
 * value (`''` for none); other ids get 404 `INSTANCE_NOT_FOUND`, as the owner router answers.
 */
export function startFakeOwnerApi(passwords: Readonly<Record<string, string>>): Promise<FakeOwnerApi> {
  const requests: ReceivedRequest[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '';
    const token = req.headers['x-auth-token'];
    requests.push({
      method: req.method ?? '',
      path,
      token: Array.isArray(token) ? token.join(',') : token,
      accept: req.headers.accept,
    });
    const serverId = PASSWORD_PATH.exec(path)?.[1];
    if (req.method !== 'GET' || serverId === undefined || !Object.hasOwn(passwords, serverId)) {
      sendJson(res, 404, { error: { code: 'INSTANCE_NOT_FOUND', message: 'No such instance.' } });
      return;
    }
    sendJson(res, 200, { password: passwords[serverId] });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        baseUrl: `http://127.0.0.1:${port}${BASE_PATH}`,
        requests,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}

/** A local HTTP server that answers as a test tells it to. */
export interface LocalServer {
  /** `http://127.0.0.1:PORT`. */
  readonly origin: string;
  /** Stops listening and ends every open connection (an endless answer included). */
  close(): Promise<void>;
}

/** Starts `handler` on 127.0.0.1 with an ephemeral port. */
export function startLocalServer(handler: RequestListener): Promise<LocalServer> {
  const server = createServer(handler);
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        origin: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
