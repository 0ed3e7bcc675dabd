import { randomBytes } from 'node:crypto';

/** Opaque identifiers with a readable kind prefix, e.g. `prj_5kQ1…`; 120 random bits. */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(15).toString('base64url')}`;
}
