/**
 * What a documentation block may leave to the reader: names a host app already has (its app, its
 * database, its token check, the element a page writes into). A block is type-checked with a
 * declaration for each of these names it uses and does not define itself, and nothing else; a block
 * that uses such a name is only type-checked, never run (a declaration has no value).
 *
 * A new block that needs another name adds it here, declared as narrowly as the prose describes it.
 */
export const READER_CONTEXT: Readonly<Record<string, string>> = {
  // The host's Express apps and its own handlers.
  app: "declare const app: import('express').Express;",
  internalApp: "declare const internalApp: import('express').Express;",
  metadataHandler: "declare const metadataHandler: import('express').RequestHandler;",
  asyncRoute:
    'declare function asyncRoute(handler: (req: import(\'express\').Request, res: import(\'express\').Response) => Promise<void>): import(\'express\').RequestHandler;',
  yourErrorHandler: "declare const yourErrorHandler: import('express').ErrorRequestHandler;",
  // The host's records of servers, its token check, its audit sink and logger.
  db: `interface HostServer { id: string; projectId: string; keyData: string; publicKey: string }
declare const db: {
  servers: { find(id: string): Promise<HostServer | undefined> };
  findServer(id: string): Promise<HostServer | undefined>;
};`,
  server: "declare const server: { id: string; projectId: string };",
  tokens:
    "declare const tokens: { verify(token: string | undefined): { userId: string; projectId: string; roles: string[] } | null };",
  audit: `declare const audit: ((event: import('express-metadata-password').PasswordEvent) => void) & {
  write(event: import('express-metadata-password').PasswordEvent): void;
};`,
  logger: 'declare const logger: { info(message: string, ...details: unknown[]): void };',
  // Options the host already wrote, spread into another call.
  guestOptions: "declare const guestOptions: import('express-metadata-password').PasswordRouterOptions;",
  ownerOptions: "declare const ownerOptions: import('express-metadata-password').ServerPasswordRouterOptions;",
  // A store and a Redis client made as the stores section shows.
  store: "declare const store: import('express-metadata-password').PasswordStore;",
  redis: "declare const redis: import('ioredis').Redis;",
  // Key material and values the owner or the agent has at hand.
  sshRsaLine: 'declare const sshRsaLine: string;',
  privateKeyText: 'declare const privateKeyText: string;',
  privateKeyPem: 'declare const privateKeyPem: string;',
  passphrase: 'declare const passphrase: string | undefined;',
  keyText: 'declare const keyText: string;',
  serverId: 'declare const serverId: string;',
  token: 'declare const token: string;',
  // Elements of the owner's web page.
  passwordField: 'declare const passwordField: { textContent: string | null };',
  message: 'declare const message: { textContent: string | null };',
};
