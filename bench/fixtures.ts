import { createHash, createHmac, randomBytes } from 'node:crypto';

/** What every benchmark server and the load generator agree on. */

export const PROXY_SECRET = 'bench-proxy-secret-0123456789abcdef';
export const PROJECT_ID = 'bench-project';
/** The instance whose password is set before the load starts. */
export const INSTANCE_ID = '7c3e4a1b-9d2f-4e6a-8b5c-0f1d2e3a4b5c';
/** What every boot-storm instance id starts with: instances booting without a password yet. */
export const STORM_PREFIX = 'storm-';
export const OWNER_TOKEN = 'bench-owner-token-0123456789';

export const GUEST_PATH = '/openstack/latest/password';
export const OWNER_PATH = `/compute/v2.1/servers/${INSTANCE_ID}/os-server-password`;

/** A 2048-bit RSA key's ciphertext as an agent posts it: 256 random bytes, base64 (344 characters). */
export function ciphertext(): string {
  return randomBytes(256).toString('base64');
}

/**
 * The value stored for `INSTANCE_ID`: 256 bytes derived from a fixed seed, so every process of a
 * run (and every run) serves the same bytes.
 */
export const STORED_PASSWORD = Buffer.concat(
  Array.from({ length: 8 }, (_, block) => createHash('sha256').update(`bench-ciphertext-${block}`).digest()),
).toString('base64');

/**
 * The instance's SSH public key for the `publicKey` rows (what Nova keeps with an instance), and a
 * ciphertext `openssl pkeyutl -encrypt` made with it: one block below its modulus, as an agent posts.
 */
export const INSTANCE_PUBLIC_KEY =
  'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCxrwGTm0n9wnUy4zZ079igKKKPcBiJjTh5+yxyJLUoL9PByIoqeWjm3PovvV39GuurGI00uL4Zz6b2htgobgBqfbBtzTGDtY7NFmRfzqr8E3RKSGk2lQ2zlAGNgdLHxY88jotrDfVj3DYih+e4iVwYfHjbOE+8lfSJzFbMQ7nuUDBFDhd0DMdWvx6JDNfnc5b07K9f6jaTMWNR3o2ktNE+OXHPEfM7W4EW9p4wfj89EBKxiibTfuTsgEDQzgXuUwDYf7uDaj4SWoZoDK0SCBBnX4r2E6PhTKGEEF4PGvt59SxpJGk8qNtk5UZ1tVnCyxyRRdDRLk5UYsX520pdKZHj bench-instance';
export const CIPHERTEXT_FOR_KEY =
  'O10dM7jf4PVxRhmKoz1Vr283R8wncNmMdz6dJpbQtQy6M7GTEL34IJ1FtVIY+VttG7Nf62VdyBCd1KyJgh6pqmezGbpy79q6Cd0VKbg1LRs/NY5sN2YXorn5U+IJ3tNv85CmkEWdSLkWENFk4QT+z/3IUyaTSc2tgowMkXMqDO/ugDMztZet65U7JHnBDWaHMDvUv1eyInd2plq0zjlSTbbA2+2u1YBn48PxTabtLaYaEkNvfdCKRk+HjtenMDe3plwGQs1KG1HyUeU/eWuDDIQAB3nXpkNF4e9cBHb7QulJQS6gGOhQu031zuyyUo6Fq3UOvXUbxZymyW76dGG1fw==';

/** The 409 answer's message, word for word the router's, so both sides send the same bytes. */
export const CONFLICT_MESSAGE = 'A password is already set; the owner must clear it first.';
export const CONFLICT_BODY = JSON.stringify({ error: { code: 'PASSWORD_ALREADY_SET', message: CONFLICT_MESSAGE } });

/** The compute API's view: who holds `OWNER_TOKEN`, and which project `INSTANCE_ID` belongs to. */
export interface Owner {
  readonly id: string;
  readonly projectId: string;
}
export const OWNERS = new Map<string, Owner>([[OWNER_TOKEN, { id: 'bench-owner', projectId: PROJECT_ID }]]);
export const SERVERS = new Map([[INSTANCE_ID, { id: INSTANCE_ID, projectId: PROJECT_ID }]]);

/** Nova's metadata proxy signature: the hex HMAC-SHA256 of the instance id. */
export function signature(instanceId: string): string {
  return createHmac('sha256', PROXY_SECRET).update(instanceId).digest('hex');
}

/** The headers Nova's metadata proxy adds for `instanceId`. */
export function guestHeaders(instanceId: string): Record<string, string> {
  return {
    'x-instance-id': instanceId,
    'x-tenant-id': PROJECT_ID,
    'x-instance-id-signature': signature(instanceId),
  };
}
