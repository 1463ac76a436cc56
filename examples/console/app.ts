// The demo's owner console: pick a token, list its project's servers, retrieve a password and
// decrypt it in this page with the browser module. The private key is only ever read here: no
// request carries it. Text from the server is shown with textContent, never parsed as HTML.
import {
  clearServerPassword,
  decryptPassword,
  getServerPassword,
  ServerPasswordError,
  type PasswordPadding,
} from '../../lib/browser/index.js';
import { resetPassword } from './reset-password.js';

/** Where the demo mounts the owner router. */
const COMPUTE_API = '/compute/v2.1';
/** How long "Wait for the guest" waits, in seconds: Windows images take minutes to post. */
const GUEST_WAIT_SECONDS = 900;

interface DemoOwner {
  token: string;
  id: string;
  projectId: string;
  role: 'reader' | 'member';
}

interface ServerSummary {
  id: string;
  name: string;
  has_password: boolean;
}

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`#${id} is missing from the page`);
  return found as T;
}

const tokenSelect = element<HTMLSelectElement>('token');
const serverRows = element<HTMLTableElement>('servers').tBodies[0];
const retrieveSection = element<HTMLElement>('retrieve');
const keyInput = element<HTMLTextAreaElement>('key');
const keyFileInput = element<HTMLInputElement>('key-file');
const paddingSelect = element<HTMLSelectElement>('padding');
const result = element<HTMLElement>('result');
const passwordOutput = element<HTMLOutputElement>('password');
const status = element<HTMLElement>('status');

const waitRow = element<HTMLElement>('wait-row');
const waitingState = element<HTMLElement>('waiting');

/** Characters that reorder, hide or break what is shown: a password holding one may be forged. */
const CONTROL_OR_FORMAT = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;

function codePoint(character: string): string {
  return `U+${character.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

let owners: DemoOwner[] = [];
let selected: { server: ServerSummary; ciphertext: string } | undefined;
/** Cancels the wait for the guest in progress, if any. */
let waiting: AbortController | undefined;

function say(message: string, isError = false): void {
  status.textContent = message;
  status.classList.toggle('error', isError);
}

function currentToken(): string {
  return tokenSelect.value;
}

function explain(error: unknown): string {
  if (error instanceof ServerPasswordError && error.status === 403) {
    return `Refused (403): ${error.message} A project reader may read passwords; only a member may clear them.`;
  }
  if (error instanceof ServerPasswordError && error.status > 0) return `The API answered ${error.status}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

/** The demo's own JSON routes: as `/browser` does, no redirect is followed with the token, and 30 s at most. */
async function getJson<T>(path: string, token?: string): Promise<T> {
  const response = await fetch(path, {
    headers: token === undefined ? {} : { 'X-Auth-Token': token },
    redirect: 'error',
    signal: AbortSignal.timeout(30_000),
  });
  if (!response.ok) throw new Error(`${path} answered ${response.status}`);
  return (await response.json()) as T;
}

function cell(text: string, className?: string): HTMLTableCellElement {
  const td = document.createElement('td');
  td.textContent = text;
  if (className !== undefined) td.className = className;
  return td;
}

function renderServers(servers: readonly ServerSummary[]): void {
  serverRows.replaceChildren(
    ...servers.map((server) => {
      const row = document.createElement('tr');
      row.dataset.serverId = server.id;
      const badge = document.createElement('span');
      badge.className = server.has_password ? 'badge set' : 'badge';
      badge.textContent = server.has_password ? 'set' : 'none';
      const passwordCell = cell('');
      passwordCell.append(badge);
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = 'Retrieve password';
      button.addEventListener('click', () => void retrieve(server));
      const actionCell = cell('');
      actionCell.append(button);
      row.append(cell(server.name), cell(server.id, 'id'), passwordCell, actionCell);
      return row;
    }),
  );
}

async function loadServers(): Promise<void> {
  hideRetrieve();
  if (currentToken() === '') return;
  const { servers } = await getJson<{ servers: ServerSummary[] }>(`${COMPUTE_API}/servers`, currentToken());
  renderServers(servers);
  const owner = owners.find((candidate) => candidate.token === currentToken());
  say(`${servers.length} server(s) in project ${owner?.projectId ?? '?'}, as a ${owner?.role ?? '?'}.`);
}

/** Removes the private key from the page: the pasted text, the chosen file and the password shown. */
function forgetKey(): void {
  keyInput.value = '';
  keyFileInput.value = '';
  showPassword(undefined);
}

/**
 * Hides the retrieve section and forgets the key: on every change of token, every refresh of the
 * list and after a clear, no key stays in the page for a server no longer shown.
 */
function hideRetrieve(): void {
  stopWaiting();
  selected = undefined;
  retrieveSection.hidden = true;
  forgetKey();
}

function showPassword(password: string | undefined): void {
  passwordOutput.textContent = password ?? '';
  result.hidden = password === undefined;
}

function showCiphertext(server: ServerSummary, ciphertext: string): void {
  selected = { server, ciphertext };
  element('server-name').textContent = server.name;
  element('ciphertext').textContent = ciphertext === '' ? '(none: the server has not posted a password yet)' : ciphertext;
  waitRow.hidden = ciphertext !== '';
  retrieveSection.hidden = false;
}

async function retrieve(server: ServerSummary): Promise<void> {
  stopWaiting();
  if (selected?.server.id !== server.id) forgetKey();
  showPassword(undefined);
  try {
    const ciphertext = await getServerPassword({ url: COMPUTE_API, serverId: server.id, token: currentToken() });
    showCiphertext(server, ciphertext);
    say(ciphertext === '' ? `${server.name} has no password yet.` : `Retrieved the encrypted password of ${server.name}.`);
  } catch (error) {
    say(explain(error), true);
  }
}

/** Holds a request until the guest posts its password (`Prefer: wait`), showing that it waits. */
async function waitForGuest(): Promise<void> {
  if (selected === undefined || waiting !== undefined) return;
  const { server } = selected;
  const cancel = new AbortController();
  waiting = cancel;
  waitRow.hidden = true;
  waitingState.hidden = false;
  say(`Waiting for ${server.name}'s agent to post its password…`);
  try {
    const ciphertext = await getServerPassword({
      url: COMPUTE_API,
      serverId: server.id,
      token: currentToken(),
      wait: GUEST_WAIT_SECONDS,
      signal: cancel.signal,
    });
    if (waiting !== cancel) return;
    showCiphertext(server, ciphertext);
    say(
      ciphertext === ''
        ? `${server.name} posted no password within ${GUEST_WAIT_SECONDS / 60} minutes.`
        : `${server.name} posted its password: decrypt it below.`,
    );
    if (ciphertext !== '') void loadBadges().catch((error: unknown) => say(explain(error), true));
  } catch (error) {
    if (cancel.signal.aborted) return;
    waitRow.hidden = false;
    say(explain(error), true);
  } finally {
    if (waiting === cancel) {
      waiting = undefined;
      waitingState.hidden = true;
    }
  }
}

/** Ends the wait for the guest, if one is in progress. */
function stopWaiting(): boolean {
  const cancel = waiting;
  if (cancel === undefined) return false;
  waiting = undefined;
  waitingState.hidden = true;
  cancel.abort();
  return true;
}

/** Marks servers that now have a password, keeping the open retrieval as it is. */
async function loadBadges(): Promise<void> {
  const { servers } = await getJson<{ servers: ServerSummary[] }>(`${COMPUTE_API}/servers`, currentToken());
  renderServers(servers);
}

async function decrypt(): Promise<void> {
  if (selected === undefined || selected.ciphertext === '') {
    say('There is no encrypted password to decrypt.', true);
    return;
  }
  try {
    const padding = paddingSelect.value as PasswordPadding;
    const password = await decryptPassword(selected.ciphertext, keyInput.value, { padding });
    const hidden = password.match(CONTROL_OR_FORMAT);
    if (hidden !== null) {
      showPassword(undefined);
      say(
        `The decrypted password holds control or format characters (${[...new Set(hidden)].map(codePoint).join(', ')}), ` +
          'which change what is shown; no password generator makes them, so it may be forged: anyone who has your ' +
          'public key, the API included, can encrypt any text to it. It is not shown.',
        true,
      );
      return;
    }
    showPassword(password);
    say(`Decrypted in this page. The key was not sent anywhere.`);
  } catch (error) {
    showPassword(undefined);
    say(explain(error), true);
  }
}

async function clearPassword(): Promise<void> {
  if (selected === undefined) return;
  const { server } = selected;
  try {
    await clearServerPassword({ url: COMPUTE_API, serverId: server.id, token: currentToken() });
    await loadServers();
    say(`Cleared the password of ${server.name}: its agent may post a new one.`);
  } catch (error) {
    say(explain(error), true);
  }
}

async function readKeyFile(file: File | undefined): Promise<void> {
  if (file === undefined) return;
  if (file.size > 64 * 1024) {
    say('That file is too large to be a private key.', true);
    return;
  }
  keyInput.value = await file.text();
  say(`Read ${file.name} in this page.`);
}

function listen(): void {
  tokenSelect.addEventListener('change', () => void loadServers().catch((error) => say(explain(error), true)));
  element('refresh').addEventListener('click', () => void loadServers().catch((error) => say(explain(error), true)));
  element('decrypt').addEventListener('click', () => void decrypt());
  element('wait').addEventListener('click', () => void waitForGuest());
  element('cancel-wait').addEventListener('click', () => {
    if (!stopWaiting() || selected === undefined) return;
    waitRow.hidden = false;
    say(`Stopped waiting for ${selected.server.name}.`);
  });
  element('clear').addEventListener('click', () => void clearPassword());
  element('reset').addEventListener('click', () => {
    if (selected !== undefined) void resetPassword(COMPUTE_API, selected.server, currentToken(), say);
  });
  element('forget').addEventListener('click', () => {
    forgetKey();
    say('The key is gone from the page.');
  });
  element('copy').addEventListener('click', () => {
    navigator.clipboard.writeText(passwordOutput.textContent ?? '').then(
      () => say('Copied to the clipboard.'),
      () => say('The browser refused the clipboard: select the password and copy it.', true),
    );
  });
  keyFileInput.addEventListener('change', () => void readKeyFile(keyFileInput.files?.[0]));
  keyInput.addEventListener('dragover', (event) => {
    event.preventDefault();
    keyInput.classList.add('dragging');
  });
  keyInput.addEventListener('dragleave', () => keyInput.classList.remove('dragging'));
  keyInput.addEventListener('drop', (event) => {
    event.preventDefault();
    keyInput.classList.remove('dragging');
    void readKeyFile(event.dataTransfer?.files[0]);
  });
}

async function start(): Promise<void> {
  listen();
  owners = await getJson<DemoOwner[]>('/demo/owners');
  tokenSelect.replaceChildren(
    ...owners.map((owner) => {
      const option = document.createElement('option');
      option.value = owner.token;
      option.textContent = `${owner.projectId} · ${owner.role} (${owner.id})`;
      return option;
    }),
  );
  await loadServers();
}

start().catch((error) => say(`The console could not start: ${explain(error)}`, true));
