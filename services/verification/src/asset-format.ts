import { READABLE_FORMATS, checkDeclaredFormat, sniffFormat } from '@c2pa-mesh/engine';
import { invalidArgument } from '@c2pa-mesh/errors';

/**
 * The format an asset is read as: the declared one when it matches the bytes (mismatch →
 * invalid_argument naming both), else the one its magic bytes announce.
 */
export function assetFormat(declared: string, asset: Uint8Array): string {
  if (asset.length === 0) throw invalidArgument('the asset is empty; send the complete media file', { details: { field: 'asset' } });
  if (declared.trim() !== '') return checkDeclaredFormat(declared, asset);
  const sniffed = sniffFormat(asset);
  if (sniffed === undefined) {
    throw invalidArgument(
      `the format could not be recognised from the asset's first bytes; it is none of ${READABLE_FORMATS.join(', ')}, or name it in "format"`,
      { details: { field: 'format' } },
    );
  }
  return sniffed;
}
