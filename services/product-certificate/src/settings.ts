import { ConfigError } from '@c2pa-mesh/config';
import { PROOF_ALGORITHMS, type ProofAlgorithm } from './proof-keys.js';

/** Operator settings of product certificates, read once at start-up from the environment. */
export interface ProductCertificateSettings {
  /** Algorithm of new proof keys (MESH_MC4P_PROOF_ALGORITHM: ES256 or RS256). */
  algorithm: ProofAlgorithm;
  /** The active proof key is replaced once it is this many days old (MESH_MC4P_KEY_ROTATION_DAYS; 0: never). */
  keyRotationDays: number;
  /** Verify answers 412 for a domain its owner has not verified (MESH_MC4P_DOMAIN_ENFORCEMENT). */
  domainEnforcement: boolean;
  /**
   * DNS servers (`host` or `host:port`, comma-separated) for domain verification: the TXT lookup
   * and the address of the well-known file's host (MESH_MC4P_DNS_SERVERS). Empty: the system's.
   */
  dnsServers: string[];
}

export const DEFAULT_PRODUCT_CERTIFICATE_SETTINGS: ProductCertificateSettings = { algorithm: 'ES256', keyRotationDays: 90, domainEnforcement: false, dnsServers: [] };

export function productCertificateSettingsFromEnv(env: Record<string, string | undefined>): ProductCertificateSettings {
  const settings = { ...DEFAULT_PRODUCT_CERTIFICATE_SETTINGS };
  const algorithm = (env.MESH_MC4P_PROOF_ALGORITHM ?? '').trim().toUpperCase();
  if (algorithm !== '') {
    if (!(PROOF_ALGORITHMS as readonly string[]).includes(algorithm)) throw new ConfigError('MESH_MC4P_PROOF_ALGORITHM', `expected ES256 or RS256, got "${env.MESH_MC4P_PROOF_ALGORITHM}"`);
    settings.algorithm = algorithm as ProofAlgorithm;
  }
  const days = (env.MESH_MC4P_KEY_ROTATION_DAYS ?? '').trim();
  if (days !== '') {
    const value = Number(days);
    if (!Number.isInteger(value) || value < 0 || value > 3650) throw new ConfigError('MESH_MC4P_KEY_ROTATION_DAYS', `expected a whole number of days from 0 (never) to 3650, got "${days}"`);
    settings.keyRotationDays = value;
  }
  const enforcement = (env.MESH_MC4P_DOMAIN_ENFORCEMENT ?? '').trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(enforcement)) settings.domainEnforcement = true;
  else if (!['', '0', 'false', 'no', 'off'].includes(enforcement)) {
    throw new ConfigError('MESH_MC4P_DOMAIN_ENFORCEMENT', `expected on/true/1 or off/false/0, got "${env.MESH_MC4P_DOMAIN_ENFORCEMENT}"`);
  }
  settings.dnsServers = (env.MESH_MC4P_DNS_SERVERS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const server of settings.dnsServers) {
    if (!/^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-f:]+\])(:\d{1,5})?$|^[0-9a-f:]+$/i.test(server)) {
      throw new ConfigError('MESH_MC4P_DNS_SERVERS', `"${server}" is not a DNS server address such as 10.0.0.2 or 10.0.0.2:53`);
    }
  }
  return settings;
}
