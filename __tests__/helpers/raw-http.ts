import type { Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import type { Express } from 'express';

/** An answer read off a raw socket. */
export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Whether the server closed the connection after answering. */
  closed: boolean;
}

/** Listens on an ephemeral port of 127.0.0.1. */
export async function listen(app: Express): Promise<{ server: Server; port: number; close: () => Promise<void> }> {
  const server = await new Promise<Server>((resolve) => {
    const started = app.listen(0, '127.0.0.1', () => resolve(started));
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function parseAnswer(raw: Buffer, closed: boolean): RawAnswer | undefined {
  const text = raw.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  if (end === -1) return undefined;
  const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? 0);
  const body = raw.subarray(Buffer.byteLength(text.slice(0, end + 4), 'latin1'));
  if (body.length < length) return undefined;
  return { status: Number(statusLine.split(' ')[1]), headers, body: body.subarray(0, length).toString('utf8'), closed };
}

/**
 * Sends `parts` over one raw connection, `gapMs` apart, and resolves the first answer; `closed`
 * tells whether the server then closed the connection. Write errors after an early answer are
 * expected (the server may close while the client is still sending) and ignored.
 */
export function rawRequest(port: number, parts: Array<string | Buffer>, gapMs = 0, waitMs = 5000): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    let answer: RawAnswer | undefined;
    const timer = setTimeout(() => {
      socket.destroy();
      if (answer) resolve(answer);
      else reject(new Error(`no answer within ${waitMs} ms; got ${JSON.stringify(received.toString('latin1'))}`));
    }, waitMs);
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      answer ??= parseAnswer(received, false);
    });
    socket.on('error', () => {});
    let closedByClient = false;
    socket.on('close', () => {
      clearTimeout(timer);
      answer = parseAnswer(received, !closedByClient);
      if (answer) resolve(answer);
      else reject(new Error(`connection closed without an answer: ${JSON.stringify(received.toString('latin1'))}`));
    });
    let index = 0;
    const writeNext = (): void => {
      if (index >= parts.length || socket.destroyed) return;
      socket.write(parts[index++], () => setTimeout(writeNext, gapMs));
    };
    socket.on('connect', writeNext);
    // Resolves early for answers on kept-alive connections (the server does not close them).
    const poll = setInterval(() => {
      if (answer && index >= parts.length) {
        clearInterval(poll);
        clearTimeout(timer);
        // Give a closing server a moment, so `closed` tells what it did.
        setTimeout(() => {
          closedByClient = true;
          socket.destroy();
        }, 50);
      }
    }, 20);
    socket.on('close', () => clearInterval(poll));
  });
}
