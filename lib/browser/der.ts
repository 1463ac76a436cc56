import { bytesToBigInt } from './bytes.js';

/** One DER element: its tag byte and its content. */
export interface DerElement {
  readonly tag: number;
  readonly content: Uint8Array;
}

/** DER tags the key formats use. */
export const DER_TAG = { INTEGER: 0x02, OCTET_STRING: 0x04, NULL: 0x05, OID: 0x06, SEQUENCE: 0x30 } as const;

/** Thrown for bytes that are not the DER structure expected; the key reader turns it into `ERR_INVALID_KEY`. */
export class DerError extends Error {}

/**
 * A reader of DER (the encoding of PKCS#1 and PKCS#8 keys): definite lengths only, as DER requires,
 * and only the single-byte tags these formats use.
 */
export class DerReader {
  private offset = 0;

  constructor(private readonly bytes: Uint8Array) {}

  /** Whether every byte has been read. */
  get done(): boolean {
    return this.offset === this.bytes.length;
  }

  /** The next element, whatever its tag. */
  next(): DerElement {
    const tag = this.byte();
    let length = this.byte();
    if (length === 0x80) throw new DerError('indefinite length');
    if (length > 0x80) {
      const count = length & 0x7f;
      if (count > 4) throw new DerError('length too large');
      length = 0;
      for (let index = 0; index < count; index += 1) length = length * 256 + this.byte();
    }
    if (this.offset + length > this.bytes.length) throw new DerError('element runs past the end');
    const content = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return { tag, content };
  }

  /** The next element's content, which must carry `tag`. */
  expect(tag: number): Uint8Array {
    const element = this.next();
    if (element.tag !== tag) throw new DerError(`expected tag ${tag}, found ${element.tag}`);
    return element.content;
  }

  /** A reader of the next element, a SEQUENCE. */
  sequence(): DerReader {
    return new DerReader(this.expect(DER_TAG.SEQUENCE));
  }

  /** The next element, a non-negative INTEGER. */
  unsignedInteger(): bigint {
    const content = this.expect(DER_TAG.INTEGER);
    if (content.length === 0 || (content[0] & 0x80) !== 0) throw new DerError('not a non-negative integer');
    return bytesToBigInt(content);
  }

  /** The next element, an OBJECT IDENTIFIER, in dotted form (`1.2.840.113549.1.1.1`). */
  objectIdentifier(): string {
    const content = this.expect(DER_TAG.OID);
    if (content.length === 0) throw new DerError('empty object identifier');
    const arcs: number[] = [];
    let value = 0;
    for (const byte of content) {
      value = value * 128 + (byte & 0x7f);
      if ((byte & 0x80) === 0) {
        arcs.push(value);
        value = 0;
      }
    }
    const first = Math.min(Math.floor(arcs[0] / 40), 2);
    return [first, arcs[0] - first * 40, ...arcs.slice(1)].join('.');
  }

  private byte(): number {
    if (this.offset >= this.bytes.length) throw new DerError('unexpected end');
    const value = this.bytes[this.offset];
    this.offset += 1;
    return value;
  }
}
