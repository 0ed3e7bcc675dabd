import { MAX_ASSET_BYTES_CEILING } from '@c2pa-mesh/auth';
import { invalidArgument } from '@c2pa-mesh/errors';
import { formatExtension, isSignableFormat, normalizeFormat, sniffFormat } from '@c2pa-mesh/engine';
import type { signingV1 } from '@c2pa-mesh/proto';
import { callOptions, identifyOrRefuse } from './caller.js';
import { sendJson, type Exchange } from './exchange.js';
import type { RouteContext } from './gateway.js';
import { checkMinimumSize } from './mirrorstage.js';
import { readMultipartForm } from './multipart.js';

/** Signature algorithm OIDs (RFC 4055, RFC 5758, RFC 8410) → the mesh's algorithm names. */
export const SIGN_ALGORITHM_OIDS: Record<string, { algorithm: string; name: string }> = {
  '1.2.840.113549.1.1.10': { algorithm: 'PS256', name: 'RSASSA-PSS' },
  '1.2.840.10045.4.3.2': { algorithm: 'ES256', name: 'ECDSA with SHA-256' },
  '1.2.840.10045.4.3.3': { algorithm: 'ES384', name: 'ECDSA with SHA-384' },
  '1.3.101.112': { algorithm: 'ED25519', name: 'Ed25519' },
};

/** The hash the C2PA bindings and claim signatures use here. */
const SHA256_NAMES = new Set(['SHA256', 'SHA-256', '2.16.840.1.101.3.4.2.1']);
const SCHEMA_ROLES = ['author', 'creator', 'publisher'] as const;
type SchemaRole = (typeof SCHEMA_ROLES)[number];

const IPTC_SOURCE_TYPES = 'http://cv.iptc.org/newscodes/digitalsourcetype/';
/**
 * DigiCert's API does not say how an image came about, but c2pa-rs needs `digitalSourceType` on
 * `c2pa.created`: images signed through this endpoint are recorded as captures unless the caller
 * sends `digitalSourceType` (an IPTC code such as `trainedAlgorithmicMedia`, or its full URL).
 */
export const DEFAULT_DIGITAL_SOURCE_TYPE = `${IPTC_SOURCE_TYPES}digitalCapture`;

/** DigiCert names the parameter in its messages; so do we, with what we accept. */
function invalidParameter(field: string, message: string) {
  return invalidArgument(message, { details: { field } });
}

function parameter(fields: Map<string, string>, name: string): string | undefined {
  const value = fields.get(name)?.trim();
  return value === '' ? undefined : value;
}

export interface DigiCertParameters {
  hashAlgo: string;
  signAlgo: string;
  algorithm: string;
  schemaRoles: SchemaRole[];
  credentialId?: string;
  digitalSourceType: string;
}

/** Checks the CSC-style parameters the way DigiCert's API does, naming the one at fault. */
export function readDigiCertParameters(fields: Map<string, string>): DigiCertParameters {
  const hashAlgo = parameter(fields, 'hashAlgo');
  if (!hashAlgo || !SHA256_NAMES.has(hashAlgo.toUpperCase())) {
    throw invalidParameter('hashAlgo', 'Invalid parameter hashAlgo. Use SHA256 (or its OID 2.16.840.1.101.3.4.2.1).');
  }
  const signAlgo = parameter(fields, 'signAlgo');
  const known = signAlgo ? SIGN_ALGORITHM_OIDS[signAlgo] : undefined;
  if (!signAlgo || !known) {
    const choices = Object.entries(SIGN_ALGORITHM_OIDS).map(([oid, { name }]) => `${oid} (${name})`).join(', ');
    throw invalidParameter('signAlgo', `Missing (or invalid type) string parameter signAlgo. Use the OID of a signature algorithm: ${choices}.`);
  }
  const signAlgoParams = fields.get('signAlgoParams');
  // Accepted and not needed: the signing credential fixes the PSS parameters (SHA-256, MGF1).
  if (signAlgoParams !== undefined && !/^[A-Za-z0-9+/]*={0,2}$/.test(signAlgoParams.trim())) {
    throw invalidParameter('signAlgoParams', 'Missing (or invalid type) string parameter signAlgoParams. Send it base64-encoded, or leave it out.');
  }
  const schemaField = parameter(fields, 'schemaField');
  const roles = (schemaField ?? '').split(',').map((role) => role.trim().toLowerCase()).filter(Boolean);
  if (roles.length === 0 || !roles.every((role): role is SchemaRole => (SCHEMA_ROLES as readonly string[]).includes(role))) {
    throw invalidParameter('schemaField', `Invalid parameter schemaField. Use one or more of ${SCHEMA_ROLES.join(', ')}, comma-separated.`);
  }
  const sourceType = parameter(fields, 'digitalSourceType');
  if (sourceType !== undefined && !/^[A-Za-z][A-Za-z0-9]*$/.test(sourceType) && !/^https?:\/\/\S+$/.test(sourceType)) {
    throw invalidParameter('digitalSourceType', 'Invalid parameter digitalSourceType. Use an IPTC digital source type such as digitalCapture or trainedAlgorithmicMedia, or its URL.');
  }
  return {
    hashAlgo,
    signAlgo,
    algorithm: known.algorithm,
    schemaRoles: [...new Set(roles as SchemaRole[])],
    credentialId: parameter(fields, 'credentialID') ?? parameter(fields, 'credentialId'),
    digitalSourceType: sourceType === undefined ? DEFAULT_DIGITAL_SOURCE_TYPE : sourceType.includes('://') ? sourceType : `${IPTC_SOURCE_TYPES}${sourceType}`,
  };
}

/** The signer to use: the named credential, else the default one, else any of the algorithm. */
export function chooseSigner(signers: readonly signingV1.Signer[], parameters: DigiCertParameters): signingV1.Signer {
  const active = signers.filter((signer) => signer.status.toUpperCase() === 'ACTIVE');
  const sameAlgorithm = (signer: signingV1.Signer) => signer.algorithm.toUpperCase() === parameters.algorithm;
  if (parameters.credentialId !== undefined) {
    const named = active.find((signer) => signer.id === parameters.credentialId || signer.certificateId === parameters.credentialId);
    if (!named) throw invalidParameter('credentialID', 'Invalid parameter credentialID. No active signing credential of yours has this id (see ListSigners).');
    if (!sameAlgorithm(named)) {
      throw invalidParameter('signAlgo', `Missing (or invalid type) string parameter signAlgo. The credential ${named.id} signs with ${named.algorithm.toUpperCase()}, not ${parameters.algorithm}.`);
    }
    return named;
  }
  const chosen = active.find((signer) => signer.isDefault && sameAlgorithm(signer)) ?? active.find(sameAlgorithm);
  if (!chosen) {
    const available = [...new Set(active.map((signer) => signer.algorithm.toUpperCase()))].join(', ') || 'none';
    throw invalidParameter('signAlgo', `Missing (or invalid type) string parameter signAlgo. None of your signing credentials uses ${parameters.algorithm} (available: ${available}).`);
  }
  return chosen;
}

/** The caller's name as its client certificate gives it: organization, else common name. */
export function callerName(subject: string | undefined): string | undefined {
  if (!subject) return undefined;
  const attribute = (name: string) => new RegExp(`(?:^|,\\s*)${name}=([^,]+)`).exec(subject)?.[1]?.trim();
  return attribute('O') ?? attribute('CN');
}

/** The manifest DigiCert's service writes: a creation action and a CreativeWork naming the caller. */
export function digiCertManifest(title: string, who: string, parameters: DigiCertParameters): string {
  const party = [{ '@type': 'Organization', name: who }];
  const creativeWork: Record<string, unknown> = { '@context': 'https://schema.org', '@type': 'CreativeWork' };
  for (const role of parameters.schemaRoles) creativeWork[role] = party;
  return JSON.stringify({
    claim_generator_info: [{ name: 'c2pa-mesh', version: '0.1.0' }],
    title,
    assertions: [
      { label: 'c2pa.actions', data: { actions: [{ action: 'c2pa.created', digitalSourceType: parameters.digitalSourceType, softwareAgent: { name: 'c2pa-mesh', version: '0.1.0' } }] } },
      { label: 'stds.schema-org.CreativeWork', data: creativeWork },
    ],
  });
}

function imageFormat(mimeType: string, filename: string, bytes: Uint8Array): string {
  for (const candidate of [mimeType, filename.includes('.') ? filename.slice(filename.lastIndexOf('.') + 1) : '']) {
    if (candidate && candidate !== 'application/octet-stream' && isSignableFormat(candidate)) return normalizeFormat(candidate);
  }
  const sniffed = sniffFormat(bytes);
  if (sniffed && isSignableFormat(sniffed)) return sniffed;
  throw invalidParameter('image', 'Invalid parameter image. Upload a JPEG or PNG image (or another format the mesh signs).');
}

/**
 * `POST /c2pa/v1/sign`: DigiCert's image signing API for mTLS partners. The caller is identified
 * by its client certificate; the answer carries the signed image base64-encoded and the manifest
 * store as a JSON string.
 */
export async function digiCertSign(exchange: Exchange, context: RouteContext): Promise<void> {
  const clients = context.clientsFor(exchange.peer);
  const options = callOptions(exchange);
  const identity = await identifyOrRefuse(exchange, context.resolver, 'sign', () => clients.signing.sign({}, options));
  exchange.pendingAudit = { service: 'signing', operation: 'Sign', identity };
  const maxBytes = identity.limits?.maxAssetBytes ?? MAX_ASSET_BYTES_CEILING;

  const form = await readMultipartForm(exchange, { maxFileBytes: maxBytes, maxFieldBytes: 64 * 1024, fileFields: ['image'] });
  const parameters = readDigiCertParameters(form.fields);
  const image = form.files.get('image');
  if (!image) throw invalidParameter('image', 'Missing parameter image. Upload the image as a file in the form field "image".');
  checkMinimumSize(image.bytes, 'image');
  const format = imageFormat(image.mimeType, image.filename, image.bytes);
  exchange.pendingAudit.format = format;
  exchange.pendingAudit.sizeBytes = image.bytes.length;

  exchange.pendingAudit = undefined;
  const { signers } = await clients.signing.listSigners({}, options);
  const signer = chooseSigner(signers, parameters);
  const fileName = `signed-${image.filename || `image.${formatExtension(format) ?? 'bin'}`}`;
  const who = callerName(exchange.peer.credentials.certificate?.subject) ?? signer.commonName;
  const result = await clients.signing.sign(
    { asset: image.bytes, format, manifestJson: digiCertManifest(fileName, who, parameters), signerId: signer.id },
    options,
  );
  sendJson(exchange, 200, {
    file_name: fileName,
    mime_type: result.format || format,
    hash_algo: parameters.hashAlgo,
    sign_algo: parameters.signAlgo,
    encoded_signed_content: Buffer.from(result.signedAsset).toString('base64'),
    signed_manifest: result.manifestStoreJson,
    // Beyond DigiCert's shape.
    asset_id: result.assetId,
    asset_sha256: result.assetSha256,
    signer_id: result.signerId || signer.id,
    request_id: exchange.requestId,
  });
}
