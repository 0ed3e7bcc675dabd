import { createHash, randomBytes } from 'node:crypto';

/** Every API key starts with this, so leaked keys are recognisable by secret scanners. */
export const API_KEY_PREFIX = 'c2m_';

/**
 * A new API key secret: prefix, 8 characters shown in listings, and 256 bits of randomness.
 * Stored only as its SHA-256: with that much entropy a slow password hash adds nothing.
 */
export function generateApiKeySecret(): { key: string; displayPrefix: string; hash: string } {
  const body = randomBytes(32).toString('base64url');
  const key = `${API_KEY_PREFIX}${body}`;
  return { key, displayPrefix: key.slice(0, API_KEY_PREFIX.length + 8), hash: hashApiKey(key) };
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}
