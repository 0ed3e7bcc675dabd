import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { failedPrecondition, invalidArgument } from '@c2pa-mesh/errors';
import { UUIDS, box, concat, encodeCbor, superbox, superboxPayload } from './jumbf.js';

/**
 * A C2PA manifest store written by the mesh itself: one manifest, claim v2 (CBOR), the assertion
 * store from the same manifest definition the engine path takes, the hard binding supplied last
 * (it is computed while the media streams past) and the claim signature from the caller's
 * ClaimSigner (the mesh's COSE builder with its time-stamp and OCSP staple). The layout is the one
 * c2pa-rs 0.91 writes (store → manifest → assertions, claim, signature), so c2pa-rs reads it as
 * its own.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };
const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

const FIELD = 'manifest_json';
const ACTIONS_LABEL = /^c2pa\.actions(\.v\d+)?$/;
/** Labels the writer makes itself or that need the source asset or files it does not have. */
const RESERVED_LABELS = [/^c2pa\.hash\./, /^c2pa\.thumbnail/, /^c2pa\.ingredient/, /^c2pa\.soft-binding/, /^c2pa\.cloud-data/];
export const DATA_HASH_LABEL = 'c2pa.hash.data';

function unsupported(path: string, problem: string): never {
  throw failedPrecondition(`${FIELD}: ${path} ${problem}; the streaming signer of large assets cannot write it yet (sign a smaller asset, or leave it out)`, {
    details: { field: `${FIELD}.${path}`, reason: 'streaming-unsupported' },
  });
}

/** One assertion of the store: its JUMBF superbox and the hash the claim holds of it. */
interface AssertionBox {
  label: string;
  created: boolean;
  box: Uint8Array;
  hash: Uint8Array;
}

function assertionBox(label: string, kind: 'cbor' | 'json', data: unknown, created: boolean): AssertionBox {
  const content = kind === 'json' ? box('json', new TextEncoder().encode(JSON.stringify(data))) : box('cbor', encodeCbor(data));
  // A random salt in every assertion box, as c2pa-rs writes it: the hashes in the claim then
  // reveal nothing about an assertion that is later redacted.
  const salt = new Uint8Array(randomBytes(16));
  const payload = superboxPayload(kind === 'json' ? UUIDS.json : UUIDS.cbor, label, [content], salt);
  return { label, created, box: box('jumb', payload), hash: new Uint8Array(createHash('sha256').update(payload).digest()) };
}

/** Plain JSON values → CBOR-ready values (objects as maps with their key order). */
function toCborValue(value: Json): unknown {
  if (Array.isArray(value)) return value.map(toCborValue);
  if (isObject(value)) return new Map(Object.entries(value).map(([k, v]) => [k, toCborValue(v)]));
  return value;
}

/** The `c2pa.hash.data` hard binding: SHA-256 of the asset without the excluded ranges. */
export interface DataHash {
  exclusions: Array<{ start: number; length: number }>;
  /** 32 bytes; zeros while sizing the store. */
  hash: Uint8Array;
  /** Zero bytes that keep the store at the length the layout needs. */
  padLength: number;
}

/** A hard binding assertion: its label and CBOR content (hash included). */
export interface HardBinding {
  label: string;
  data: Map<string, unknown>;
}

export function dataHashBinding(dataHash: DataHash): HardBinding {
  return {
    label: DATA_HASH_LABEL,
    data: new Map<string, unknown>([
      ['exclusions', dataHash.exclusions.map(({ start, length }) => new Map([['start', start], ['length', length]]))],
      ['name', 'jumbf manifest'],
      ['alg', 'sha256'],
      ['hash', dataHash.hash],
      ['pad', new Uint8Array(dataHash.padLength)],
    ]),
  };
}

export interface ManifestStoreWriter {
  manifestLabel: string;
  /** The claim for this hard binding (what the signer signs). */
  claim(binding: HardBinding): Uint8Array;
  /** The complete store: assertions, the claim and its signature (exactly the signer's reserveSize bytes). */
  store(binding: HardBinding, claim: Uint8Array, signature: Uint8Array): Uint8Array;
  /** Length of the store for this hard binding; the hash value does not change it. */
  storeLength(binding: HardBinding): number;
}

/**
 * Reads a manifest definition (c2pa-rs ManifestDefinition JSON, already checked and with the
 * create intent applied: its first action is `c2pa.created`) into a writer of its store. What the
 * streaming path cannot write is refused with failed_precondition, never dropped.
 */
export function manifestStoreWriter(definitionJson: string, options: { signatureReserveSize: number }): ManifestStoreWriter {
  let definition: unknown;
  try {
    definition = JSON.parse(definitionJson);
  } catch (error) {
    throw invalidArgument(`${FIELD} is not valid JSON`, { cause: error, details: { field: FIELD } });
  }
  if (!isObject(definition)) throw invalidArgument(`${FIELD} must be a JSON object`, { details: { field: FIELD } });

  for (const key of ['ingredients', 'redactions', 'metadata'] as const) {
    const value = definition[key];
    if (Array.isArray(value) && value.length > 0) unsupported(key, `lists ${key}`);
  }
  if (definition.thumbnail !== undefined) unsupported('thumbnail', 'is set');
  if (definition.vendor !== undefined) unsupported('vendor', 'is set (a vendor-prefixed manifest label)');
  if (definition.label !== undefined) unsupported('label', 'is set (a caller-chosen manifest label)');
  if (definition.claim_version !== undefined && definition.claim_version !== 2) unsupported('claim_version', `is ${String(definition.claim_version)}; only claim v2 is written`);

  const generators = Array.isArray(definition.claim_generator_info) ? definition.claim_generator_info : [];
  if (generators.length !== 1 || !isObject(generators[0])) unsupported('claim_generator_info', 'must hold exactly one generator');
  const generator = generators[0] as JsonObject;
  if (generator.icon !== undefined) unsupported('claim_generator_info[0].icon', 'is set (an icon resource)');

  const assertions: AssertionBox[] = [];
  const seen = new Map<string, number>();
  const entries = Array.isArray(definition.assertions) ? definition.assertions : [];
  entries.forEach((entry, i) => {
    const path = `assertions[${i}]`;
    if (!isObject(entry) || typeof entry.label !== 'string') throw invalidArgument(`${FIELD}: ${path} must be {"label": ..., "data": ...}`, { details: { field: `${FIELD}.${path}` } });
    for (const key of Object.keys(entry)) {
      if (!['label', 'data', 'kind', 'created'].includes(key)) unsupported(`${path}.${key}`, 'is set');
    }
    if (RESERVED_LABELS.some((pattern) => pattern.test(entry.label as string))) unsupported(`${path}.label`, `is "${entry.label}"`);
    const kind = entry.kind === undefined ? undefined : entry.kind;
    if (kind !== undefined && kind !== 'Json' && kind !== 'Cbor') unsupported(`${path}.kind`, `is "${String(kind)}" (only Json and Cbor assertions are written)`);
    // c2pa-rs writes schema.org (JSON-LD) assertions as JSON, and an actions assertion as v2.
    const json = kind === 'Json' || (kind === undefined && entry.label.startsWith('stds.schema-org.'));
    let label = ACTIONS_LABEL.test(entry.label) ? 'c2pa.actions.v2' : entry.label;
    const count = seen.get(label) ?? 0;
    seen.set(label, count + 1);
    if (count > 0) label = `${label}__${count}`;
    const data = entry.data ?? null;
    assertions.push(assertionBox(label, json ? 'json' : 'cbor', json ? data : toCborValue(data), entry.created === true));
  });

  const manifestLabel = `urn:c2pa:${randomUUID()}`;
  const instanceId = typeof definition.instance_id === 'string' && definition.instance_id !== '' ? definition.instance_id : `xmp:iid:${randomUUID()}`;
  const title = typeof definition.title === 'string' && definition.title !== '' ? definition.title : undefined;
  const generatorInfo = toCborValue(generator);
  const signaturePlaceholder = new Uint8Array(options.signatureReserveSize);

  const bindingBox = (binding: HardBinding) => assertionBox(binding.label, 'cbor', binding.data, true);

  const hashedUri = (assertion: AssertionBox) => new Map<string, unknown>([['url', `self#jumbf=c2pa.assertions/${assertion.label}`], ['hash', assertion.hash]]);

  const claimFor = (hashBox: AssertionBox): Uint8Array => {
    const all = [...assertions, hashBox];
    const claim = new Map<string, unknown>([
      ['instanceID', instanceId],
      ['claim_generator_info', generatorInfo],
      ['signature', `self#jumbf=/c2pa/${manifestLabel}/c2pa.signature`],
      ['created_assertions', all.filter((a) => a.created).map(hashedUri)],
      ['gathered_assertions', all.filter((a) => !a.created).map(hashedUri)],
    ]);
    if (title !== undefined) claim.set('dc:title', title);
    claim.set('alg', 'sha256');
    return encodeCbor(claim);
  };

  const assemble = (hashBox: AssertionBox, claim: Uint8Array, signature: Uint8Array) =>
    superbox(UUIDS.store, 'c2pa', [
      superbox(UUIDS.manifest, manifestLabel, [
        superbox(UUIDS.assertionStore, 'c2pa.assertions', [...assertions.map((a) => a.box), hashBox.box]),
        superbox(UUIDS.claim, 'c2pa.claim.v2', [box('cbor', claim)]),
        superbox(UUIDS.signature, 'c2pa.signature', [box('cbor', signature)]),
      ]),
    ]);

  // Hash boxes are made once per hard binding: the salt is random, so the claim must hash the
  // very box the store holds.
  const made = new WeakMap<HardBinding, AssertionBox>();
  const hashBoxOf = (binding: HardBinding) => {
    let hashBox = made.get(binding);
    if (hashBox === undefined) {
      hashBox = bindingBox(binding);
      made.set(binding, hashBox);
    }
    return hashBox;
  };

  return {
    manifestLabel,
    claim: (binding) => claimFor(hashBoxOf(binding)),
    store(binding, claim, signature) {
      if (signature.length !== options.signatureReserveSize) {
        throw failedPrecondition(`the claim signature is ${signature.length} bytes, not the ${options.signatureReserveSize} reserved`);
      }
      return assemble(hashBoxOf(binding), claim, signature);
    },
    storeLength(binding) {
      const hashBox = bindingBox(binding);
      return assemble(hashBox, claimFor(hashBox), signaturePlaceholder).length;
    },
  };
}

/** For tests and tools: the store's parts concatenated, e.g. a sidecar. */
export const joinBytes = concat;
