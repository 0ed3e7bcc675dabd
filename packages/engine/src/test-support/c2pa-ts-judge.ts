import { BMFF, JPEG, PNG, type Asset } from '@trustnxt/c2pa-ts/asset';
import { SuperBox } from '@trustnxt/c2pa-ts/jumbf';
import { ManifestStore, ValidationResult } from '@trustnxt/c2pa-ts/manifest';

/**
 * c2pa-ts (TrustNXT's pure TypeScript C2PA implementation) as a second, independent judge of what
 * the mesh signs: it shares no code with c2pa-rs, so a signature both accept follows the
 * specification rather than one implementation's habits. It reads JPEG, PNG and ISO BMFF (AVIF,
 * HEIF, MP4); its chain-of-trust check is not implemented, so it judges signature, hashes,
 * time-stamp and certificate profile, and trust stays c2pa-rs's to judge.
 */

/** Formats c2pa-ts reads (DESIGN.md: JPEG, PNG and BMFF such as AVIF). */
export const C2PA_TS_FORMATS = ['image/jpeg', 'image/png', 'image/avif'] as const;

export interface C2paTsVerdict {
  /** No error entries. */
  valid: boolean;
  errors: string[];
  /** Informational entries: what was checked and held. */
  successes: string[];
  /** Error codes with c2pa-ts's explanation, for assertion messages. */
  explained: string[];
}

function assetOf(bytes: Uint8Array<ArrayBuffer>): Asset {
  if (JPEG.canRead(bytes)) return new JPEG(bytes);
  if (PNG.canRead(bytes)) return new PNG(bytes);
  if (BMFF.canRead(bytes)) return new BMFF(bytes);
  throw new Error('c2pa-ts reads JPEG, PNG and ISO BMFF only; this file is none of them');
}

/** Validates the active manifest of a signed file the way c2pa-ts's README does it. */
export async function judgeWithC2paTs(signed: Uint8Array): Promise<C2paTsVerdict> {
  const asset = assetOf(new Uint8Array(signed));
  const jumbf = asset.getManifestJUMBF();
  if (jumbf === undefined) return { valid: false, errors: ['(no manifest store)'], successes: [], explained: ['c2pa-ts found no manifest store in the file'] };
  let result: ValidationResult;
  try {
    result = await ManifestStore.read(SuperBox.fromBuffer(new Uint8Array(jumbf))).validate(asset);
  } catch (error) {
    // What c2pa-ts's README does too: a reading error becomes a well-formed result.
    result = ValidationResult.fromError(error as Error);
  }
  const entries = result.statusEntries;
  const errors = entries.filter((e) => !e.success);
  return {
    valid: result.isValid,
    errors: errors.map((e) => e.code),
    successes: entries.filter((e) => e.success).map((e) => e.code),
    explained: errors.map((e) => `${e.code}${e.explanation ? `: ${e.explanation}` : ''}`),
  };
}
