/**
 * Test support for the CA service: identities, CSRs made in code, and an OCSP response reader.
 * Not part of the package API; tests import it directly.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import * as pkijs from 'pkijs';
import { SERVICE_SCOPES, serviceSpiffeId, type Identity, type Scope } from '@c2pa-mesh/auth';
import type { Database } from '@c2pa-mesh/storage';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export const SIGNING_SERVICE: Identity = {
  kind: 'SERVICE',
  id: serviceSpiffeId('signing'),
  serviceName: 'signing',
  scopes: new Set(SERVICE_SCOPES.signing),
};

/** An API-key identity of one project with the given scopes. */
export function projectIdentity(projectId: string, scopes: Scope[] = ['ca.issue', 'ca.revoke', 'registry.read', 'sign', 'verify']): Identity {
  return { kind: 'API_KEY', id: `key_${projectId}`, projectId, scopes: new Set(scopes) };
}

export async function createProject(db: Database, id: string): Promise<string> {
  await db.insertInto('projects').values({ id, name: id, description: '' }).execute();
  return id;
}

const KEY_PARAMETERS = {
  ES256: { generate: { name: 'ECDSA', namedCurve: 'P-256' }, sign: { name: 'ECDSA', hash: 'SHA-256' } },
  ES384: { generate: { name: 'ECDSA', namedCurve: 'P-384' }, sign: { name: 'ECDSA', hash: 'SHA-384' } },
  ED25519: { generate: { name: 'Ed25519' }, sign: { name: 'Ed25519' } },
} as const;

export interface TestCsr {
  pem: string;
  /** DER SubjectPublicKeyInfo of the requested key. */
  spki: Uint8Array;
}

/** A PKCS#10 request signed by a fresh key; `tamper` alters the subject after signing. */
export async function createCsr(options: {
  name: string;
  algorithm?: keyof typeof KEY_PARAMETERS;
  sanUris?: string[];
  sanDns?: string[];
  tamper?: boolean;
}): Promise<TestCsr> {
  const parameters = KEY_PARAMETERS[options.algorithm ?? 'ES256'];
  const keys = (await webcrypto.subtle.generateKey(parameters.generate, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const names = [...(options.sanUris ?? []).map((value) => ({ type: 'url' as const, value })), ...(options.sanDns ?? []).map((value) => ({ type: 'dns' as const, value }))];
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: options.name,
    keys: keys as unknown as Parameters<typeof x509.Pkcs10CertificateRequestGenerator.create>[0]["keys"],
    signingAlgorithm: parameters.sign,
    extensions: names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : [],
  });
  const spki = new Uint8Array(await webcrypto.subtle.exportKey('spki', keys.publicKey));
  let pem = csr.toString('pem');
  if (options.tamper) {
    const der = Buffer.from(csr.rawData);
    const at = der.indexOf(Buffer.from(options.name.split('=')[1].split(',')[0]));
    der[at] ^= 0x01;
    pem = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE REQUEST-----\n`;
  }
  return { pem, spki };
}

export interface ReadOcspResponse {
  /** OCSPResponseStatus: 0 successful, 1 malformedRequest, 2 internalError, 6 unauthorized, … */
  responseStatus: number;
  certStatus?: 'good' | 'revoked' | 'unknown';
  revocationReason?: number;
  thisUpdate?: Date;
  nextUpdate?: Date;
  nonce?: Uint8Array;
  /** Number of certificates carried (the responder's, and its issuer's when delegated). */
  certificates?: number;
}

/** Reads an OCSPResponse with pkijs: an independent reader of what the responder wrote. */
export function readOcspResponse(der: Uint8Array): ReadOcspResponse {
  const response = pkijs.OCSPResponse.fromBER(Uint8Array.from(der));
  const responseStatus = response.responseStatus.valueBlock.valueDec;
  if (!response.responseBytes) return { responseStatus };
  const basic = pkijs.BasicOCSPResponse.fromBER(response.responseBytes.response.valueBlock.valueHexView);
  const [single] = basic.tbsResponseData.responses;
  const tag = single.certStatus.idBlock.tagNumber;
  const result: ReadOcspResponse = {
    responseStatus,
    certStatus: tag === 0 ? 'good' : tag === 1 ? 'revoked' : 'unknown',
    thisUpdate: single.thisUpdate,
    nextUpdate: single.nextUpdate,
    certificates: basic.certs?.length ?? 0,
  };
  if (tag === 1) {
    const reason = single.certStatus.valueBlock.value[1];
    result.revocationReason = reason ? reason.valueBlock.value[0].valueBlock.valueDec : 0;
  }
  const nonce = basic.tbsResponseData.responseExtensions?.find((extension) => extension.extnID === '1.3.6.1.5.5.7.48.1.2');
  if (nonce) result.nonce = new Uint8Array(nonce.extnValue.valueBlock.valueHexView);
  return result;
}
