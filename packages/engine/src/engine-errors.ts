import { MeshError } from '@c2pa-mesh/errors';
import { formatDisplayName } from './formats.js';
import type { ValidationStatusEntry } from './types.js';

/**
 * c2pa-wasm rejects with a string: the Rust `Debug` form of the c2pa-rs error, e.g.
 * `C2pa(InvalidAsset("Could not parse input JPEG"))` or `C2pa(InvalidManifest(ValidationResults {…}))`.
 * This module turns those into MeshErrors a person can act on. Input the engine cannot handle is
 * never `internal`: whatever an asset does to the parser, the caller hears why in words.
 */

export type EngineOperation = 'sign' | 'read';

export interface EngineErrorContext {
  operation: EngineOperation;
  /** Canonical MIME type the engine was asked to handle. */
  format: string;
}

/** The c2pa-rs error variant, e.g. "InvalidAsset"; undefined when the text is not a c2pa-rs error. */
export function engineErrorVariant(raw: string): string | undefined {
  return /^C2pa\((\w+)/.exec(raw)?.[1];
}

const unescapeRust = (s: string) =>
  s.replace(/\\(u\{([0-9a-fA-F]+)\}|.)/g, (_m, esc: string, hex?: string) => {
    if (hex !== undefined) return String.fromCodePoint(parseInt(hex, 16));
    return ({ n: '\n', t: '\t', r: '\r', '0': '\0' } as Record<string, string>)[esc] ?? esc;
  });

const STRING_LITERAL = /"((?:[^"\\]|\\.)*)"/g;
const VALIDATION_STATUS =
  /ValidationStatus \{ code: "((?:[^"\\]|\\.)*)", url: (?:Some\("((?:[^"\\]|\\.)*)"\)|None), explanation: (?:Some\("((?:[^"\\]|\\.)*)"\)|None),.*?kind: (\w+)/g;

/** The validation status entries inside an `InvalidManifest(ValidationResults {…})` error. */
export function validationStatusesInError(raw: string): Array<ValidationStatusEntry & { kind: string }> {
  const statuses: Array<ValidationStatusEntry & { kind: string }> = [];
  for (const m of raw.matchAll(VALIDATION_STATUS)) {
    statuses.push({
      code: unescapeRust(m[1]),
      ...(m[2] !== undefined ? { url: unescapeRust(m[2]) } : {}),
      ...(m[3] !== undefined ? { explanation: unescapeRust(m[3]) } : {}),
      kind: m[4],
    });
  }
  return statuses;
}

const words = (identifier: string) => identifier.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();

/** The engine's reason in words: the strings it carries, else its variant names spelled out. */
export function describeEngineError(raw: string): string {
  const variant = engineErrorVariant(raw);
  if (variant === undefined) return raw.slice(0, 300);
  const inner = raw.slice(`C2pa(${variant}`.length).replace(/\)+$/, '').replace(/^\(/, '');
  if (/UnexpectedEof/.test(inner)) return 'the data ends unexpectedly (is the file truncated?)';
  if (variant === 'JsonError') {
    const message = [...inner.matchAll(STRING_LITERAL)][0]?.[1];
    const position = /line: (\d+), column: (\d+)/.exec(inner);
    return `${message === undefined ? 'malformed JSON' : unescapeRust(message)}${position ? ` at line ${position[1]}, column ${position[2]}` : ''}`;
  }
  const strings = [...inner.matchAll(STRING_LITERAL)].map((m) => unescapeRust(m[1]).split('\n')[0]).filter((s) => s !== '');
  const detail = strings.length > 0 ? strings.join('; ') : words(inner.replace(/[^A-Za-z0-9]+/g, ' ').trim());
  const reason = variant === 'InvalidAsset' ? detail : detail === '' ? words(variant) : `${words(variant)}: ${detail}`;
  return reason.length > 300 ? `${reason.slice(0, 297)}...` : reason;
}

/** Turns an engine rejection (the raw c2pa-rs error text) into a MeshError. */
export function classifyEngineError(raw: string, context: EngineErrorContext): MeshError {
  const variant = engineErrorVariant(raw);
  const name = formatDisplayName(context.format);
  const details = { engineError: variant ?? 'unknown', format: context.format };
  const reason = describeEngineError(raw);

  switch (variant) {
    case 'JumbfNotFound':
    case 'ProvenanceMissing':
      return new MeshError('not_found', 'no C2PA manifest in this asset', { cause: raw, details });

    case 'RemoteManifestUrl':
    case 'RemoteManifestFetch': {
      const url = [...raw.matchAll(STRING_LITERAL)][0]?.[1];
      return new MeshError(
        'failed_precondition',
        `the asset's manifest is not embedded but refers to ${url === undefined ? 'a remote URL' : unescapeRust(url)}; remote manifests are not fetched`,
        { cause: raw, details },
      );
    }

    case 'InvalidManifest':
    case 'ValidationRule':
    case 'ClaimVerification': {
      const statuses = validationStatusesInError(raw);
      // An untrusted credential alone never stops c2pa-rs; name what did.
      const failures = statuses.filter((s) => s.kind === 'Failure' && s.code !== 'signingCredential.untrusted');
      const shown = (failures.length > 0 ? failures : statuses).map((s) => `${s.explanation ?? s.code} (${s.code})`);
      const what = context.operation === 'sign' ? 'the engine refused to sign this manifest' : 'the manifest is invalid';
      return new MeshError('invalid_argument', `${what}: ${shown.length > 0 ? shown.join('; ') : reason}`, {
        cause: raw,
        details: { ...details, statuses: failures.map(({ kind: _kind, ...s }) => s) },
      });
    }

    case 'JsonError':
      return new MeshError(
        'invalid_argument',
        context.operation === 'sign' ? `the manifest definition is not valid: ${reason}` : `the asset's manifest is malformed: ${reason}`,
        { cause: raw, details },
      );

    case 'BadParam':
      if (/could not parse configuration|trust/i.test(raw)) {
        return new MeshError(
          'invalid_argument',
          'the trust anchors or allowed certificates could not be loaded; give them as PEM certificates',
          { cause: raw, details },
        );
      }
      return new MeshError('invalid_argument', `the engine rejected a parameter: ${reason}`, { cause: raw, details });

    case 'UnsupportedType':
      return new MeshError('invalid_argument', `the bytes could not be parsed as ${name}`, { cause: raw, details });

    case 'NotImplemented':
    case 'VersionCompatibility':
    case 'UnsupportedThumbnailFormat':
      return new MeshError('failed_precondition', `the engine cannot ${context.operation} this ${name} asset: ${reason}`, {
        cause: raw,
        details,
      });

    case 'InsufficientMemory':
      return new MeshError('resource_exhausted', `the asset is too large for the engine: ${reason}`, { cause: raw, details });

    // Signing-side failures that point at the claim signer, not at the asset.
    case 'CoseSigboxTooSmall':
    case 'CoseTimeStampGeneration':
    case 'CoseNoCerts':
    case 'CoseSignatureAlgorithmNotSupported':
    case 'FailedToRemoteSign':
    case 'InvalidSigningKey':
      if (context.operation === 'sign') {
        return new MeshError('internal', `the claim signer's output was not accepted by the engine: ${reason}`, {
          cause: raw,
          details,
        });
      }
      break;

    default:
      break;
  }
  // Damage inside the manifest itself (its boxes, claim, signature structure) rather than in the
  // media container.
  if (context.operation === 'read' && variant !== undefined && /^(Jumbf|Cose|Claim|Assertion|Ocsp|TooManyManifestStores|PrereleaseError|MissingDataBox)/.test(variant)) {
    return new MeshError('invalid_argument', `the asset's C2PA manifest is damaged or malformed: ${reason}`, { cause: raw, details });
  }
  const subject = context.operation === 'sign' ? `cannot sign this ${name} asset` : `cannot read this ${name} asset`;
  return new MeshError('invalid_argument', `${subject}: ${reason}`, { cause: raw, details });
}

/** A WebAssembly trap (a Rust panic or out-of-bounds access) while handling an asset. */
export function engineTrapError(message: string, context: EngineErrorContext): MeshError {
  return new MeshError(
    'invalid_argument',
    `the engine failed while processing this ${formatDisplayName(context.format)} asset (${message}); the asset is probably malformed`,
    { cause: message, details: { engineError: 'trap', format: context.format } },
  );
}
