import { invalidArgument, resourceExhausted } from '@c2pa-mesh/errors';

/**
 * Limits on a manifest definition (`manifest_json`), checked before it is parsed or handed to the
 * engine: each one bounds the work and memory a single Sign may cost. Without them a 50 MB
 * definition took 27 s and 3 GB, 100,000 actions kept the engine busy for a minute, and a deeply
 * nested one overflowed the stack. Documented in the README (API, "Manifest definition limits").
 */
export const MANIFEST_LIMITS = Object.freeze({
  /** UTF-8 size of `manifest_json`. */
  maxJsonBytes: 1024 * 1024,
  /** Nesting of arrays and objects; real definitions stay under 10. */
  maxDepth: 32,
  /** Entries of `assertions`. */
  maxAssertions: 100,
  /** Actions over all `c2pa.actions` assertions. */
  maxActions: 1000,
  /** Entries of `ingredients`. */
  maxIngredients: 100,
  /**
   * Estimated size of the claim (what the signer signs): the claim generator, title, format,
   * instance id, redactions and metadata as written, plus a hashed reference per assertion and
   * ingredient. The CA signs at most 1 MiB; this leaves room for what c2pa-rs adds.
   */
  maxClaimBytes: 256 * 1024,
});

/** Bytes of one hashed URI reference in the claim (label, algorithm, SHA-256), rounded up. */
const CLAIM_REFERENCE_BYTES = 128;

const FIELD = 'manifest_json';

/** Size, then depth: both on the text, so that neither a huge nor a deep definition is parsed. */
export function checkManifestText(manifestJson: string): void {
  const { maxJsonBytes, maxDepth } = MANIFEST_LIMITS;
  // A UTF-16 length over the limit is over it in UTF-8 too: no need to measure a huge string.
  const bytes = manifestJson.length > maxJsonBytes ? manifestJson.length : Buffer.byteLength(manifestJson, 'utf8');
  if (bytes > maxJsonBytes) {
    throw resourceExhausted(`${FIELD} is ${manifestJson.length > maxJsonBytes ? 'more than ' : ''}${bytes} bytes; a manifest definition may be at most ${maxJsonBytes} bytes (1 MiB)`, {
      details: { field: FIELD, limit: 'maxJsonBytes', maxJsonBytes },
    });
  }
  let depth = 0;
  let inString = false;
  for (let i = 0; i < manifestJson.length; i++) {
    const c = manifestJson.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > maxDepth) {
        throw invalidArgument(`${FIELD} nests objects and arrays more than ${maxDepth} levels deep`, { details: { field: FIELD, limit: 'maxDepth', maxDepth } });
      }
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--;
    }
  }
}

function over(path: string, what: string, count: number, limit: number, name: keyof typeof MANIFEST_LIMITS): never {
  throw invalidArgument(`${FIELD}: ${path} has ${count} ${what}; a manifest definition may have at most ${limit}`, {
    details: { field: `${FIELD}.${path}`, limit: name, [name]: limit },
  });
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Counts of assertions, actions and ingredients, and the claim's estimated size, on the parsed definition. */
export function checkManifestCounts(definition: Record<string, Json>, isActionsLabel: (label: string) => boolean): void {
  const { maxAssertions, maxActions, maxIngredients, maxClaimBytes } = MANIFEST_LIMITS;
  const assertions = Array.isArray(definition.assertions) ? definition.assertions : [];
  const ingredients = Array.isArray(definition.ingredients) ? definition.ingredients : [];
  if (assertions.length > maxAssertions) over('assertions', 'entries', assertions.length, maxAssertions, 'maxAssertions');
  if (ingredients.length > maxIngredients) over('ingredients', 'entries', ingredients.length, maxIngredients, 'maxIngredients');
  let actions = 0;
  for (const assertion of assertions) {
    if (typeof assertion !== 'object' || assertion === null || Array.isArray(assertion)) continue;
    if (typeof assertion.label !== 'string' || !isActionsLabel(assertion.label)) continue;
    const data = assertion.data;
    if (typeof data === 'object' && data !== null && !Array.isArray(data) && Array.isArray(data.actions)) actions += data.actions.length;
  }
  if (actions > maxActions) over('assertions', 'actions in its c2pa.actions assertions', actions, maxActions, 'maxActions');

  const claimFields = ['claim_generator', 'claim_generator_info', 'title', 'format', 'instance_id', 'redactions', 'metadata', 'vendor', 'label'] as const;
  let claimBytes = (assertions.length + ingredients.length) * CLAIM_REFERENCE_BYTES;
  for (const field of claimFields) {
    if (definition[field] !== undefined) claimBytes += Buffer.byteLength(JSON.stringify(definition[field]), 'utf8');
  }
  if (claimBytes > maxClaimBytes) {
    throw invalidArgument(
      `${FIELD}: the claim would be about ${claimBytes} bytes; it may be at most ${maxClaimBytes} (claim_generator_info, title, format, instance_id, redactions, metadata and one reference per assertion and ingredient)`,
      { details: { field: FIELD, limit: 'maxClaimBytes', maxClaimBytes } },
    );
  }
}
