import { createHash, X509Certificate } from 'node:crypto';
import { invalidArgument } from '@c2pa-mesh/errors';
import type { ManifestStoreReport } from './types.js';

/**
 * The C2PA private credential store ("allowed list", spec §14.4.3): end-entity certificates
 * trusted as they are, whoever issued them. c2pa-rs has the setting (`trust.allowed_list`), but the
 * 0.91 WebAssembly build ignores it when reading (a signature by a listed certificate still reads
 * `signingCredential.untrusted`), so the engine applies it here, by the same rule: the SHA-256 of
 * the signing certificate's DER, base64, is on the list. It only ever lifts Valid to Trusted —
 * c2pa-rs has already checked the signature, the certificate profile and the bindings.
 */

/** SHA-256 fingerprints (base64) of the certificates in a PEM bundle, plus bare fingerprint lines. */
export function allowedFingerprints(pemBundle: string): Set<string> {
  const fingerprints = new Set<string>();
  const blocks = pemBundle.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  for (const block of blocks) {
    let der: Buffer;
    try {
      der = new X509Certificate(block).raw;
    } catch (cause) {
      throw invalidArgument('an allowed certificate is not a valid PEM certificate', { cause });
    }
    fingerprints.add(createHash('sha256').update(der).digest('base64'));
  }
  // c2pa-rs also accepts the fingerprints themselves, one per line, outside PEM blocks.
  for (const line of pemBundle.replace(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g, '').split(/\r?\n/)) {
    const candidate = line.trim();
    if (/^[A-Za-z0-9+/]{43}=$/.test(candidate)) fingerprints.add(candidate);
  }
  return fingerprints;
}

export function applyAllowedList(
  report: ManifestStoreReport,
  signingCertificateSha256: string | undefined,
  allowed: Set<string>,
): ManifestStoreReport {
  if (report.validationState !== 'Valid' || signingCertificateSha256 === undefined || !allowed.has(signingCertificateSha256)) {
    return report;
  }
  const activeSignature = `/c2pa/${report.activeManifestLabel}/c2pa.signature`;
  const untrusted = report.errors.filter((e) => e.code === 'signingCredential.untrusted' && e.url?.endsWith(activeSignature));
  // Only the lack of trust in the active signature may stand between this manifest and Trusted.
  if (untrusted.length === 0 || untrusted.length !== report.errors.length) return report;
  return {
    ...report,
    validationState: 'Trusted',
    errors: [],
    successes: [
      ...untrusted.map((e) => ({
        code: 'signingCredential.trusted',
        ...(e.url !== undefined ? { url: e.url } : {}),
        explanation: 'signing certificate trusted, found in the allowed list',
      })),
      ...report.successes,
    ],
  };
}
