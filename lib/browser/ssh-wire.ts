import { bytesToBigInt } from './bytes.js';

/** Thrown for bytes that are not the SSH structure expected; the key reader turns it into `ERR_INVALID_KEY`. */
export class SshWireError extends Error {}

/** A reader of the SSH wire encoding (RFC 4251: uint32, string, mpint), which OpenSSH key files use. */
export class SshWireReader {
  private offset = 0;

  constructor(private readonly bytes: Uint8Array) {}

  /** The bytes not read yet. */
  get rest(): Uint8Array {
    return this.bytes.subarray(this.offset);
  }

  /** The next `length` bytes, as they are. */
  raw(length: number): Uint8Array {
    if (this.offset + length > this.bytes.length) throw new SshWireError('unexpected end');
    const value = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  /** A big-endian uint32. */
  uint32(): number {
    const [a, b, c, d] = this.raw(4);
    return ((a << 24) >>> 0) + (b << 16) + (c << 8) + d;
  }

  /** A length-prefixed byte string. */
  string(): Uint8Array {
    return this.raw(this.uint32());
  }

  /** A length-prefixed string read as ASCII text (names such as `ssh-rsa`, `none`). */
  text(): string {
    return String.fromCharCode(...this.string());
  }

  /** A non-negative mpint (two's complement, big-endian). */
  unsignedMpint(): bigint {
    const bytes = this.string();
    if (bytes.length > 0 && (bytes[0] & 0x80) !== 0) throw new SshWireError('negative mpint');
    return bytesToBigInt(bytes);
  }
}
