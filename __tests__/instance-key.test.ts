import request from 'supertest';
import { decryptPassword } from '../lib/crypto';
import { ciphertext, guestApp } from './helpers/app';
import { heapRetainedBy } from './helpers/heap';
import { listen } from './helpers/raw-http';
import {
  makeKeyDir,
  makeOtherKey,
  makeRsaKeySet,
  opensslEncrypt,
  opensslModulus,
  removeKeyDir,
  type OtherKey,
  type RsaKeySet,
} from './helpers/crypto-keys';

const PATH = '/openstack/latest/password';
const SIZES = [1024, 2048, 4096] as const;

/** A guest app whose instance `i-1` has `publicKey`, in base64 format up to 4096-bit blocks. */
function appWithKey(publicKey: string | readonly string[]) {
  return guestApp({
    lookupInstance: ({ principal }) => ({ id: principal.instanceId, publicKey }),
    serviceOptions: { maxBytes: 2048 },
  });
}

describe('a guest POST must be one RSA block for the instance publicKey', () => {
  let dir: string;
  const keys = new Map<number, RsaKeySet>();

  beforeAll(async () => {
    dir = makeKeyDir();
    for (const bits of SIZES) keys.set(bits, await makeRsaKeySet(dir, bits));
  }, 120_000);
  afterAll(() => removeKeyDir(dir));

  describe.each(SIZES)('%i-bit key', (bits) => {
    const forms = () => {
      const key = keys.get(bits)!;
      return [
        ['an ssh-rsa line', key.sshPublicLine],
        ['a PEM SPKI key', key.spkiPem],
        ['a PEM PKCS#1 key', key.pkcs1PublicPem],
      ] as const;
    };

    it('accepts PKCS#1 v1.5 and OAEP ciphertexts made by openssl, in every key form', async () => {
      const key = keys.get(bits)!;
      for (const [, publicKey] of forms()) {
        for (const padding of ['pkcs1', 'oaep-sha256'] as const) {
          const { app, service } = appWithKey(publicKey);
          const value = opensslEncrypt(key.spkiPath, Buffer.from('Pässwörd-1'), padding);
          const res = await request(app).post(PATH).set('X-Test-Instance', 'i-1').send(value);
          expect(res.status).toBe(200);
          expect(await service.get('i-1')).toBe(value);
        }
      }
    });

    it.each([
      ['one byte short', (modulus: Buffer) => modulus.subarray(1)],
      ['one byte long', (modulus: Buffer) => Buffer.concat([Buffer.from([0]), modulus])],
      ['a smaller key\'s block', (modulus: Buffer) => modulus.subarray(0, modulus.length / 2)],
      ['equal to the modulus', (modulus: Buffer) => Buffer.from(modulus)],
      ['above the modulus', (modulus: Buffer) => Buffer.alloc(modulus.length, 0xff)],
    ])('refuses a value %s with 400, an event, nothing stored', async (_, make) => {
      const key = keys.get(bits)!;
      const block = make(opensslModulus(key.spkiPath)).toString('base64');
      for (const [, publicKey] of forms()) {
        const { app, service, events } = appWithKey(publicKey);
        const res = await request(app).post(PATH).set('X-Test-Instance', 'i-1').send(block);
        expect(res.status).toBe(400);
        expect(res.body.error.code).toBe('INVALID_PASSWORD');
        expect(res.body.error.message).toContain(`not encrypted for this instance's ${bits}-bit key`);
        expect(await service.get('i-1')).toBeUndefined();
        expect(events).toEqual([expect.objectContaining({ type: 'password.rejected', reason: 'INVALID_PASSWORD', instanceId: 'i-1' })]);
      }
    });
  });

  it("refuses a 1024-bit key's ciphertext posted for a 2048-bit instance", async () => {
    const key = keys.get(2048)!;
    const { app } = appWithKey(key.sshPublicLine);
    const res = await request(app).post(PATH).set('X-Test-Instance', 'i-1').send(ciphertext(128));
    expect(res.status).toBe(400);
    expect(res.body.error.message).toBe(
      "The password is not encrypted for this instance's 2048-bit key: a ciphertext for it is one 256-byte block below the key's modulus, and this is 128 bytes.",
    );
  });

  it('names a block of the right length at or above the modulus as such', async () => {
    const key = keys.get(2048)!;
    const { app } = appWithKey(key.sshPublicLine);
    const res = await request(app).post(PATH).set('X-Test-Instance', 'i-1').send(Buffer.alloc(256, 0xff).toString('base64'));
    expect(res.status).toBe(400);
    expect(res.body.error.message).toBe(
      "The password is not encrypted for this instance's 2048-bit key: a ciphertext for it is one 256-byte block below the key's modulus, and this block is at or above the modulus.",
    );
  });

  it("cannot tell another key of the same size apart: that key's ciphertext is stored, and the owner's decryption finds out", async () => {
    const [instanceKey, otherKey] = [keys.get(2048)!, await makeRsaKeySet(dir, 2048, 'other-rsa-2048')];
    const { app, service } = appWithKey(instanceKey.sshPublicLine);
    // A block for the other key passes when it also lies below this key's modulus (about n/2^2048
    // of the time, half or more): OAEP is randomised, so encrypt again until one does.
    const modulus = BigInt(`0x${opensslModulus(instanceKey.spkiPath).toString('hex')}`);
    const encrypt = () => opensslEncrypt(otherKey.spkiPath, Buffer.from('Passw0rd!'), 'oaep-sha256');
    let value = encrypt();
    while (BigInt(`0x${Buffer.from(value, 'base64').toString('hex')}`) >= modulus) value = encrypt();
    await request(app).post(PATH).set('X-Test-Instance', 'i-1').send(value).expect(200);
    expect(await service.get('i-1')).toBe(value);
    expect(() => decryptPassword(value, instanceKey.privateKeys[0].text, { padding: 'oaep-sha256' })).toThrow(
      expect.objectContaining({ code: 'ERR_DECRYPTION_FAILED' }),
    );
  });

  it('leaves a value that is not base64 to the format check', async () => {
    const { app } = appWithKey(keys.get(2048)!.sshPublicLine);
    const res = await request(app).post(PATH).set('X-Test-Instance', 'i-1').send('Pass word!');
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/not base64/);
  });

  it("answers a host's unreadable key 500 INTERNAL, logged at most once a minute, never the guest's fault", async () => {
    for (const publicKey of ['ssh-rsa AAAA', '-----BEGIN PUBLIC KEY-----\ngarbage\n-----END PUBLIC KEY-----', keys.get(2048)!.privateKeys[1].text]) {
      // The service checks the value against the key, so its logger says what is wrong.
      const { app, service, events, logger } = guestApp({
        lookupInstance: ({ principal }) => ({ id: principal.instanceId, publicKey }),
      });
      for (let attempt = 0; attempt < 3; attempt++) {
        const res = await request(app).post(PATH).set('X-Test-Instance', 'i-1').send(ciphertext());
        expect([res.status, res.body.error.code]).toEqual([500, 'INTERNAL']);
      }
      expect(logger.errors.filter(([message]) => String(message).includes('not a public key'))).toHaveLength(1);
      expect(JSON.stringify(logger.errors)).not.toContain('PRIVATE KEY');
      expect(await service.get('i-1')).toBeUndefined();
      expect(events.filter((event) => event.type === 'password.rejected')).toEqual([]);
    }
  });

  it('keeps only valid keys parsed: 1,100 distinct unreadable 15 KB keys leave no trace', async () => {
    let next = 0;
    const { app } = guestApp({
      lookupInstance: ({ principal }) => ({ id: principal.instanceId, publicKey: `ssh-rsa ${String(next++).padStart(6, '0')}${'A'.repeat(15_000)}` }),
    });
    const listening = await listen(app);
    try {
      const post = () =>
        fetch(`http://127.0.0.1:${listening.port}${PATH}`, { method: 'POST', headers: { 'X-Test-Instance': 'i-1' }, body: ciphertext() });
      // A cache of the last 1,000 keys, readable or not, would hold 15 MB of key text.
      expect(await heapRetainedBy(post, 500)).toBeLessThan(10 * 1024 * 1024);
    } finally {
      await listening.close();
    }
  }, 60_000);

  it("ignores the key in format 'text'", async () => {
    const { app, service } = guestApp({
      lookupInstance: ({ principal }) => ({ id: principal.instanceId, publicKey: keys.get(2048)!.sshPublicLine }),
      serviceOptions: { format: 'text' },
    });
    expect((await request(app).post(PATH).set('X-Test-Instance', 'i-1').send('plain text')).status).toBe(200);
    expect(await service.get('i-1')).toBe('plain text');
  });
});

describe('an instance with several keys: a guest POST must be one RSA block for one of its RSA keys', () => {
  let dir: string;
  const rsa = new Map<number, RsaKeySet>();
  let ed25519: OtherKey;
  let ecdsa: OtherKey;
  /** Every key of the instance, RSA of three sizes in three forms mixed with ed25519 and ECDSA. */
  let mixed: string[];

  beforeAll(async () => {
    dir = makeKeyDir();
    for (const bits of SIZES) rsa.set(bits, await makeRsaKeySet(dir, bits));
    [ed25519, ecdsa] = await Promise.all([makeOtherKey(dir, 'ed25519', 'openssh'), makeOtherKey(dir, 'ecdsa', 'openssh')]);
    mixed = [
      ed25519.sshPublicLine,
      rsa.get(1024)!.sshPublicLine,
      ecdsa.sshPublicLine,
      rsa.get(2048)!.spkiPem,
      rsa.get(4096)!.pkcs1PublicPem,
    ];
  }, 120_000);
  afterAll(() => removeKeyDir(dir));

  it.each(SIZES)('stores a ciphertext made by openssl for the %i-bit key among them', async (bits) => {
    for (const padding of ['pkcs1', 'oaep-sha256'] as const) {
      const { app, service } = appWithKey(mixed);
      const value = opensslEncrypt(rsa.get(bits)!.spkiPath, Buffer.from('Pässwörd-1'), padding);
      const res = await request(app).post(PATH).set('X-Test-Instance', 'i-1').send(value);
      expect(res.status).toBe(200);
      expect(await service.get('i-1')).toBe(value);
    }
  });

  it.each([
    ['a block of no key size', () => ciphertext(200)],
    ['a 2048-bit block at or above the modulus', () => Buffer.alloc(256, 0xff).toString('base64')],
  ])('refuses %s with 400 naming the key sizes it was checked against, nothing stored', async (_, make) => {
    const { app, service, events } = appWithKey(mixed);
    const res = await request(app).post(PATH).set('X-Test-Instance', 'i-1').send(make());
    expect([res.status, res.body.error.code]).toEqual([400, 'INVALID_PASSWORD']);
    expect(res.body.error.message).toContain("any of this instance's RSA keys (1024-bit, 2048-bit, 4096-bit)");
    expect(await service.get('i-1')).toBeUndefined();
    expect(events).toEqual([expect.objectContaining({ type: 'password.rejected', reason: 'INVALID_PASSWORD' })]);
  });

  it('refuses every POST of an instance whose keys include no RSA key, saying the agent needs one', async () => {
    for (const keys of [ed25519.sshPublicLine, [ed25519.sshPublicLine], [ed25519.sshPublicLine, ecdsa.sshPublicLine]]) {
      const { app, service, events } = appWithKey(keys);
      for (const value of [ciphertext(256), ciphertext(128), opensslEncrypt(rsa.get(2048)!.spkiPath, Buffer.from('x'), 'pkcs1')]) {
        const res = await request(app).post(PATH).set('X-Test-Instance', 'i-1').send(value);
        expect([res.status, res.body.error.code]).toEqual([400, 'INVALID_PASSWORD']);
        expect(res.body.error.message).toContain('the agent needs an RSA key');
      }
      expect(await service.get('i-1')).toBeUndefined();
      expect(events.map((event) => event.type)).toEqual(['password.rejected', 'password.rejected', 'password.rejected']);
    }
  });

  it('checks nothing for an empty list', async () => {
    const { app, service } = appWithKey([]);
    const value = ciphertext(100);
    expect((await request(app).post(PATH).set('X-Test-Instance', 'i-1').send(value)).status).toBe(200);
    expect(await service.get('i-1')).toBe(value);
  });

  it("answers 500 INTERNAL, logged once, when one of the list is no key at all, however good the others", async () => {
    const { app, service, logger } = guestApp({
      lookupInstance: ({ principal }) => ({ id: principal.instanceId, publicKey: [...mixed, 'ssh-rsa AAAA'] }),
      serviceOptions: { maxBytes: 2048 },
    });
    for (let attempt = 0; attempt < 3; attempt++) {
      const value = opensslEncrypt(rsa.get(2048)!.spkiPath, Buffer.from('x'), 'pkcs1');
      const res = await request(app).post(PATH).set('X-Test-Instance', 'i-1').send(value);
      expect([res.status, res.body.error.code]).toEqual([500, 'INTERNAL']);
    }
    expect(logger.errors.filter(([message]) => String(message).includes('not a public key'))).toHaveLength(1);
    expect(await service.get('i-1')).toBeUndefined();
  });

  it('answers 500 INTERNAL when publicKey is a list holding something other than strings', async () => {
    const { app, logger } = guestApp({
      lookupInstance: ({ principal }) => ({ id: principal.instanceId, publicKey: [rsa.get(2048)!.sshPublicLine, 42] as unknown as string[] }),
    });
    const res = await request(app).post(PATH).set('X-Test-Instance', 'i-1').send(ciphertext());
    expect([res.status, res.body.error.code]).toEqual([500, 'INTERNAL']);
    expect(JSON.stringify(logger.errors)).toContain('an array of strings');
  });
});
