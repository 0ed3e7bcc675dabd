import { buildCoseSign1, normalizeFormat } from '@c2pa-mesh/engine';
import { invalidArgument } from '@c2pa-mesh/errors';
import type { ReceivedTimeStamp } from '@c2pa-mesh/pki';
import type { signingV1 } from '@c2pa-mesh/proto';
import { canonicalJson } from './canonical-json.js';
import { MAX_TITLE_LENGTH, registryLabels } from './sign-request-rules.js';
import type { SigningIdentity } from './signer-directory.js';

/**
 * SignHash records (the file never leaves the customer): the request's descriptive fields and the
 * content hash as RFC 8785 canonical JSON, signed as a COSE_Sign1 shaped like a C2PA claim
 * signature so the same tools read it: payload detached, `{alg, x5chain}` protected, the RFC 3161
 * TimeStampResp over the countersignature in `sigTst2` (the whole response, as c2pa-rs writes it)
 * and the OCSP staple in `rVals`.
 */

/** Names the payload's schema, so that the signature cannot be taken for one over anything else. */
export const HASH_RECORD_TYPE = 'c2pa-mesh/hash-record/v1';

export const CONTENT_TYPES = ['AUTHENTIC', 'AI_ENHANCED', 'AI_GENERATED'] as const;
export const CAPTURE_MODES = ['PHOTO', 'VIDEO', 'AUDIO', 'OTHER'] as const;

const CONTENT_HASH = /^sha256:[0-9a-fA-F]{64}$/;
const MIME_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
// The headline is the registry title too, which holds at most MAX_TITLE_LENGTH characters.
const MAX_TEXT = { headline: MAX_TITLE_LENGTH, author: 300, location: 300 } as const;

/** The request, checked and normalised: what goes into the payload and the registry. */
export interface HashRecordFields {
  contentHash: string;
  headline: string;
  author: string;
  contentType: (typeof CONTENT_TYPES)[number];
  location: string;
  /** RFC 3339 UTC, or empty. */
  recordedAt: string;
  captureMode: string;
  tags: string[];
  format: string;
}

function text(field: keyof typeof MAX_TEXT, value: string, required: boolean): string {
  const trimmed = value.trim();
  if (required && trimmed === '') throw invalidArgument(`${field} is required: what the content shows, in a sentence`, { details: { field } });
  if (trimmed.length > MAX_TEXT[field]) {
    throw invalidArgument(`${field} is ${trimmed.length} characters long; at most ${MAX_TEXT[field]} are allowed`, { details: { field } });
  }
  return trimmed;
}

function oneOf<T extends string>(field: string, value: string, allowed: readonly T[], fallback: T | ''): T | '' {
  const upper = value.trim().toUpperCase();
  if (upper === '') return fallback;
  if (!(allowed as readonly string[]).includes(upper)) {
    throw invalidArgument(`${field} must be one of ${allowed.join(', ')}, not "${value.trim().slice(0, 50)}"`, { details: { field } });
  }
  return upper as T;
}

/** A format the engine knows, canonical; any other MIME type as given (the content is only hashed). */
function contentFormat(format: string): string {
  const trimmed = format.trim();
  if (trimmed === '') return '';
  try {
    return normalizeFormat(trimmed);
  } catch (error) {
    const lower = trimmed.toLowerCase();
    if (MIME_TYPE.test(lower)) return lower;
    throw invalidArgument(`format must be a MIME type such as video/mp4, not "${trimmed.slice(0, 100)}"`, { cause: error, details: { field: 'format' } });
  }
}

export function checkHashRecordRequest(req: signingV1.SignHashRequest): HashRecordFields {
  const contentHash = req.contentHash.trim();
  if (contentHash === '') throw invalidArgument('content_hash is required: sha256:<64 hex digits> of the content', { details: { field: 'content_hash' } });
  if (!CONTENT_HASH.test(contentHash)) {
    throw invalidArgument('content_hash must be "sha256:" followed by 64 hex digits (the SHA-256 of the content)', { details: { field: 'content_hash' } });
  }
  let recordedAt = '';
  if (req.recordedAt.trim() !== '') {
    const raw = req.recordedAt.trim();
    const millis = Date.parse(raw);
    if (!RFC3339.test(raw) || Number.isNaN(millis)) {
      throw invalidArgument(`recorded_at must be an RFC 3339 time such as 2026-03-28T15:00:00Z, not "${raw.slice(0, 50)}"`, { details: { field: 'recorded_at' } });
    }
    recordedAt = new Date(millis).toISOString();
  }
  const labels = registryLabels('', req.tags);
  return {
    contentHash: contentHash.toLowerCase(),
    headline: text('headline', req.headline, true),
    author: text('author', req.author, false),
    contentType: oneOf('content_type', req.contentType, CONTENT_TYPES, 'AUTHENTIC') as HashRecordFields['contentType'],
    location: text('location', req.location, false),
    recordedAt,
    captureMode: oneOf('capture_mode', req.captureMode, CAPTURE_MODES, ''),
    tags: labels.tags,
    format: contentFormat(req.format),
  };
}

/** The canonical payload: stated fields only (empty ones are left out), keys sorted, no whitespace. */
export function hashRecordPayload(fields: HashRecordFields, signer: SigningIdentity, signedAt: Date): string {
  const optional = (value: string) => (value === '' ? undefined : value);
  return canonicalJson({
    type: HASH_RECORD_TYPE,
    content_hash: fields.contentHash,
    headline: fields.headline,
    author: optional(fields.author),
    content_type: fields.contentType,
    location: optional(fields.location),
    recorded_at: optional(fields.recordedAt),
    capture_mode: optional(fields.captureMode),
    format: optional(fields.format),
    tags: fields.tags.length > 0 ? fields.tags : undefined,
    signed_at: signedAt.toISOString(),
    certificate_id: signer.certificateId,
  });
}

export interface HashRecordSignatureParts {
  alg: SigningIdentity['alg'];
  chainDer: Uint8Array[];
  payload: Uint8Array;
  sign: (toBeSigned: Uint8Array) => Promise<Uint8Array>;
  timeStamp: (countersignature: Uint8Array) => Promise<ReceivedTimeStamp>;
  ocspResponse: Uint8Array;
}

/** COSE_Sign1 (tag 18) over `payload`, detached, time-stamped, with the OCSP staple. */
export async function signHashRecordPayload(parts: HashRecordSignatureParts): Promise<{ cose: Uint8Array; timeStamp: ReceivedTimeStamp }> {
  let timeStamp: ReceivedTimeStamp | undefined;
  const cose = await buildCoseSign1({
    alg: parts.alg,
    certificateChainDer: parts.chainDer,
    claim: parts.payload,
    signSigStructure: parts.sign,
    timeStamp: async (countersignature) => {
      timeStamp = await parts.timeStamp(countersignature);
      return timeStamp.response;
    },
    ocspResponses: [parts.ocspResponse],
  });
  return { cose, timeStamp: timeStamp! };
}
