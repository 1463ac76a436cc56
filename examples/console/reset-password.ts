// The console's "Reset password" action: Nova's changePassword action with a password made in this
// page; the server's agent fetches it from the password server (CloudStack's protocol) and applies
// it, at its next boot for cloudbase-init. Project members only: the demo answers a reader 403.

const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789!#%+-.:=@_~';

/** 20 characters from the browser's CSPRNG, with upper and lower case letters, a digit and a symbol. */
function newPassword(): string {
  for (;;) {
    const bytes = crypto.getRandomValues(new Uint8Array(20));
    // 256 is not a multiple of the alphabet's length: drop the bytes that would favour its start.
    const limit = 256 - (256 % ALPHABET.length);
    if (bytes.some((byte) => byte >= limit)) continue;
    const password = Array.from(bytes, (byte) => ALPHABET[byte % ALPHABET.length]).join('');
    if ([/[A-Z]/, /[a-z]/, /[0-9]/, /[^A-Za-z0-9]/].every((rule) => rule.test(password))) return password;
  }
}

/** Queues a new password for `server` (Nova's changePassword action) and says what it is. */
export async function resetPassword(
  computeApi: string,
  server: { id: string; name: string },
  token: string,
  say: (message: string, isError?: boolean) => void,
): Promise<void> {
  const password = newPassword();
  try {
    const response = await fetch(`${computeApi}/servers/${encodeURIComponent(server.id)}/action`, {
      method: 'POST',
      headers: { 'X-Auth-Token': token, 'Content-Type': 'application/json' },
      body: JSON.stringify({ changePassword: { adminPass: password } }),
      redirect: 'error',
    });
    if (response.status === 202) {
      say(`New password for ${server.name}: ${password} (its agent fetches it from the password server and applies it).`);
      return;
    }
    const body = (await response.json().catch(() => undefined)) as { error?: { message?: string } } | undefined;
    say(`Refused (${response.status}): ${body?.error?.message ?? 'no reason given'}`, true);
  } catch {
    say('The reset did not reach the server.', true);
  }
}
