import { invalidArgument } from '@c2pa-mesh/errors';

export type PemLabel = 'CERTIFICATE' | 'PRIVATE KEY' | 'X509 CRL' | 'CERTIFICATE REQUEST';

export function toPem(der: Uint8Array, label: PemLabel = 'CERTIFICATE'): string {
  const base64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < base64.length; i += 64) lines.push(base64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

export interface PemBlock {
  label: string;
  der: Uint8Array;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/** Every PEM block in `pem`, in order, with its label. Text around the blocks is ignored. */
export function pemBlocks(pem: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const match of pem.matchAll(BLOCK)) {
    const body = match[2].replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length % 4 !== 0 || body.length === 0) {
      throw invalidArgument(`the PEM block "${match[1]}" does not hold valid base64`);
    }
    blocks.push({ label: match[1], der: new Uint8Array(Buffer.from(body, 'base64')) });
  }
  return blocks;
}

/** The DER of every PEM block in `pem`, in order (a chain file gives leaf first, as written). */
export function pemToDer(pem: string): Uint8Array[] {
  return pemBlocks(pem).map((block) => block.der);
}

/** DER as is, or the single PEM block of `label` in a string. */
export function derFromInput(input: Uint8Array | string, label: PemLabel, what: string): Uint8Array {
  if (typeof input !== 'string') return input;
  const blocks = pemBlocks(input).filter((block) => block.label === label || (label === 'CERTIFICATE REQUEST' && block.label === 'NEW CERTIFICATE REQUEST'));
  if (blocks.length === 0) throw invalidArgument(`${what}: no "-----BEGIN ${label}-----" block found`);
  if (blocks.length > 1) throw invalidArgument(`${what}: expected one ${label} block, found ${blocks.length}`);
  return blocks[0].der;
}
