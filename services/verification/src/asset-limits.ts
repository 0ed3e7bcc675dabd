import { DEFAULT_MAX_ASSET_BYTES, MAX_ASSET_BYTES_CEILING, type Identity } from '@c2pa-mesh/auth';
import { resourceExhausted } from '@c2pa-mesh/errors';

/** The largest asset this caller may have verified: its key's limit, else the mesh default. */
export function maxAssetBytes(identity: Identity): number {
  return Math.min(identity.limits?.maxAssetBytes ?? DEFAULT_MAX_ASSET_BYTES, MAX_ASSET_BYTES_CEILING);
}

const megabytes = (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(bytes < 1024 * 1024 ? 2 : 0)} MiB`;

/** Refuses `size` bytes (resource_exhausted) when they exceed the caller's limit. */
export function checkAssetSize(size: number, identity: Identity, what = 'the asset'): void {
  const limit = maxAssetBytes(identity);
  if (size > limit) {
    throw resourceExhausted(`${what} is larger than ${megabytes(limit)} (${limit} bytes), the most this caller may send for verification`, {
      details: { sizeBytes: size, maxAssetBytes: limit },
    });
  }
}
