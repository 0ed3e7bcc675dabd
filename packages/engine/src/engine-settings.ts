/**
 * c2pa-rs settings ("context JSON", `docs/context-settings.md` and `sdk/src/settings/mod.rs` in
 * c2pa-rs 0.91) for every reader and builder the engine creates.
 *
 * The engine never touches the network: an asset must not make the server fetch a URL it names.
 * - `verify.remote_manifest_fetch: false` — a manifest referenced by URL is not fetched (default
 *   true in c2pa-rs);
 * - `verify.ocsp_fetch: false` — revocation comes from the OCSP response stapled in the signature;
 * - `core.allowed_network_hosts: []` — the HTTP resolvers' allow-list; empty blocks every request
 *   (also those the settings above do not cover, e.g. CAWG identity resolution);
 * - `core.allow_redirects: false` — belt and braces should a host ever be allowed.
 * Trust: `trust.trust_anchors` (roots) and `trust.allowed_list` (end-entity certificates), with
 * `verify.verify_trust` so that a chain to an anchor reads Trusted.
 */
export interface EngineTrust {
  trustAnchorsPem?: string;
  allowedCertificatesPem?: string;
}

/**
 * Extended key usages accepted on signing certificates. c2pa-rs has the same list built in
 * (`crypto/cose/valid_eku_oids.cfg`), but the 0.91 WebAssembly build only honours the ones it
 * knows by name (emailProtection, timeStamping, OCSPSigning) unless they are given here.
 */
export const ACCEPTED_EKUS: readonly string[] = [
  '1.3.6.1.4.1.62558.2.1', // C2PA claim signing
  '1.3.6.1.5.5.7.3.36', // id-kp-documentSigning
  '1.3.6.1.4.1.311.76.59.1.9', // Microsoft C2PA signing
  '1.3.6.1.5.5.7.3.4', // id-kp-emailProtection
  '1.3.6.1.5.5.7.3.8', // id-kp-timeStamping
  '1.3.6.1.5.5.7.3.9', // id-kp-OCSPSigning
];

export function engineSettings(trust: EngineTrust = {}, overrides: { verifyAfterReading?: boolean } = {}): string {
  const trustSettings: Record<string, string> = { trust_config: ACCEPTED_EKUS.join('\n') };
  if (trust.trustAnchorsPem !== undefined && trust.trustAnchorsPem.trim() !== '') {
    trustSettings.trust_anchors = trust.trustAnchorsPem;
  }
  if (trust.allowedCertificatesPem !== undefined && trust.allowedCertificatesPem.trim() !== '') {
    trustSettings.allowed_list = trust.allowedCertificatesPem;
  }
  return JSON.stringify({
    version: 1,
    trust: trustSettings,
    core: { allowed_network_hosts: [], allow_redirects: false },
    verify: {
      verify_trust: true,
      verify_timestamp_trust: true,
      remote_manifest_fetch: false,
      ocsp_fetch: false,
      ...(overrides.verifyAfterReading === false ? { verify_after_reading: false } : {}),
    },
  });
}
