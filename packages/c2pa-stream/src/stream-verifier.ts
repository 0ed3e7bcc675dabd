import { createHash } from 'node:crypto';
import { decode as decodeCbor } from 'cbor-x';
import type { ManifestStoreReport, ValidationStatusEntry } from '@c2pa-mesh/engine';
import { failedPrecondition, invalidArgument } from '@c2pa-mesh/errors';
import { readRange, type ByteSource } from './byte-source.js';
import { STREAM_CHUNK_BYTES } from './stream-signer.js';
import { locateManifestStore } from './store-locators.js';

/**
 * Verification of a large asset without the whole of it in memory. c2pa-wasm reads a Blob source
 * in one slice per hashed range (measured: a 100 MiB WAV is one 100 MiB read, and the engine's
 * memory grows by twice the asset), so the engine is given the manifest store alone (signature,
 * certificates, time-stamp, OCSP, assertion hashes, ingredients are judged there) and the hard
 * binding, the one check that needs the media, is recomputed here from the file in pieces. The
 * outcome replaces what the engine reports about the binding (it had no asset to hash).
 */

export { locateManifestStore };

const HARD_BINDING = /^c2pa\.hash\.(data|bmff(\.v\d+)?|boxes|collection\.data)(__\d+)?$/;

/** What the hard binding check found, as a validation status entry. */
export interface HardBindingOutcome {
  matched: boolean;
  entry: ValidationStatusEntry;
}

// --- JUMBF, read ---------------------------------------------------------------------------

interface Box {
  type: string;
  payload: Uint8Array;
}

function boxesIn(bytes: Uint8Array): Box[] {
  const boxes: Box[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 0; at + 8 <= bytes.length; ) {
    let size = view.getUint32(at);
    let header = 8;
    if (size === 1) {
      if (at + 16 > bytes.length) break;
      size = Number(view.getBigUint64(at + 8));
      header = 16;
    } else if (size === 0) {
      size = bytes.length - at;
    }
    if (size < header || at + size > bytes.length) throw invalidArgument('the manifest store has a JUMBF box that runs past its end');
    boxes.push({ type: String.fromCharCode(...bytes.subarray(at + 4, at + 8)), payload: bytes.subarray(at + header, at + size) });
    at += size;
  }
  return boxes;
}

interface Superbox {
  label: string;
  children: Box[];
}

/** A `jumb` superbox: its description's label and the boxes after the description. */
function superboxOf(box: Box): Superbox | undefined {
  if (box.type !== 'jumb') return undefined;
  const [description, ...children] = boxesIn(box.payload);
  if (description?.type !== 'jumd' || description.payload.length < 17) return undefined;
  const toggles = description.payload[16];
  let label = '';
  if (toggles & 0x02) {
    const end = description.payload.indexOf(0, 17);
    label = new TextDecoder().decode(description.payload.subarray(17, end < 0 ? undefined : end));
  }
  return { label, children };
}

const superboxes = (boxes: Box[]) => boxes.map(superboxOf).filter((s): s is Superbox => s !== undefined);

/** The hard binding assertion of the manifest `manifestLabel` in a store: its label and content. */
function hardBindingOf(store: Uint8Array, manifestLabel: string): { label: string; data: Record<string, unknown> } {
  const root = superboxOf(boxesIn(store)[0] ?? { type: '', payload: new Uint8Array() });
  const manifest = root === undefined ? undefined : superboxes(root.children).find((m) => m.label === manifestLabel);
  const assertionStore = manifest === undefined ? undefined : superboxes(manifest.children).find((s) => s.label === 'c2pa.assertions');
  const bindings = assertionStore === undefined ? [] : superboxes(assertionStore.children).filter((a) => HARD_BINDING.test(a.label));
  if (bindings.length !== 1) {
    throw failedPrecondition(`the active manifest has ${bindings.length} hard binding assertions; the large-asset verifier checks exactly one`, { details: { reason: 'streaming-unsupported' } });
  }
  const [binding] = bindings;
  const content = binding.children.find((b) => b.type === 'cbor');
  if (content === undefined) throw invalidArgument(`the hard binding assertion ${binding.label} has no CBOR content`);
  const data = decodeCbor(content.payload) as unknown;
  if (typeof data !== 'object' || data === null) throw invalidArgument(`the hard binding assertion ${binding.label} is not a CBOR map`);
  return { label: binding.label, data: data as Record<string, unknown> };
}

// --- hashing -------------------------------------------------------------------------------

function hasherFor(alg: unknown) {
  const name = alg === undefined ? 'sha256' : alg;
  if (name !== 'sha256' && name !== 'sha384' && name !== 'sha512') {
    throw failedPrecondition(`the hard binding uses the hash algorithm ${String(alg)}, which the large-asset verifier does not know`, { details: { reason: 'streaming-unsupported' } });
  }
  return createHash(name);
}

const bytesEqual = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((v, i) => v === b[i]);
const asBytes = (value: unknown): Uint8Array | undefined => (value instanceof Uint8Array ? value : undefined);

/** `c2pa.hash.data`: every byte but the excluded ranges. */
async function dataHashMatches(source: ByteSource, data: Record<string, unknown>): Promise<boolean> {
  const expected = asBytes(data.hash);
  if (expected === undefined) throw invalidArgument('the data hash assertion has no hash');
  const exclusions = (Array.isArray(data.exclusions) ? data.exclusions : [])
    .map((e: { start?: unknown; length?: unknown }) => ({ start: Number(e.start), length: Number(e.length) }))
    .sort((a, b) => a.start - b.start);
  const hash = hasherFor(data.alg);
  let at = 0;
  for (const { start, length } of exclusions) {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(length) || start < at || start + length > source.size) return false;
    for await (const piece of readRange(source, at, start - at, STREAM_CHUNK_BYTES)) hash.update(piece);
    at = start + length;
  }
  for await (const piece of readRange(source, at, source.size - at, STREAM_CHUNK_BYTES)) hash.update(piece);
  return bytesEqual(new Uint8Array(hash.digest()), expected);
}

interface TopBox {
  type: string;
  offset: number;
  length: number;
}

async function topLevelBoxes(source: ByteSource): Promise<TopBox[]> {
  const boxes: TopBox[] = [];
  for (let at = 0; at < source.size; ) {
    const header = await source.read(at, 16);
    if (header.length < 8) throw invalidArgument(`the asset has a box header at byte ${at} that runs past its end`);
    const view = new DataView(header.buffer, header.byteOffset, header.length);
    let size = view.getUint32(0);
    if (size === 1 && header.length === 16) size = Number(view.getBigUint64(8));
    else if (size === 0) size = source.size - at;
    const type = String.fromCharCode(...header.subarray(4, 8));
    if (size < 8 || at + size > source.size) throw invalidArgument(`the box "${type}" at byte ${at} runs past the end of the asset`);
    boxes.push({ type, offset: at, length: size });
    at += size;
  }
  return boxes;
}

/** Whether a top-level box matches one exclusion of a BMFF hash (xpath `/type`, data, length, version, flags). */
async function excludedBy(source: ByteSource, box: TopBox, exclusion: Record<string, unknown>): Promise<boolean> {
  const xpath = String(exclusion.xpath ?? '');
  const match = /^\/([\w ]{4})(\[1\])?$/.exec(xpath);
  if (match === null || exclusion.subset !== undefined) {
    throw failedPrecondition(`the BMFF hash excludes "${xpath}"${exclusion.subset === undefined ? '' : ' in part (subset)'}; the large-asset verifier handles whole top-level boxes only`, {
      details: { reason: 'streaming-unsupported' },
    });
  }
  if (match[1] !== box.type) return false;
  if (exclusion.length !== undefined && Number(exclusion.length) !== box.length) return false;
  if (exclusion.version !== undefined || exclusion.flags !== undefined) {
    const full = await source.read(box.offset + 8, 4);
    if (exclusion.version !== undefined && full[0] !== Number(exclusion.version)) return false;
    const flags = asBytes(exclusion.flags);
    if (flags !== undefined && !bytesEqual(full.subarray(1, 4), flags)) return false;
  }
  for (const item of Array.isArray(exclusion.data) ? (exclusion.data as Array<{ offset?: unknown; value?: unknown }>) : []) {
    const value = asBytes(item.value);
    if (value === undefined) return false;
    const found = await source.read(box.offset + Number(item.offset), value.length);
    if (!bytesEqual(found, value)) return false;
  }
  return true;
}

/** `c2pa.hash.bmff.v2`/`.v3` without Merkle trees: each top-level box not excluded, its offset first. */
async function bmffHashMatches(source: ByteSource, label: string, data: Record<string, unknown>): Promise<boolean> {
  if (!/^c2pa\.hash\.bmff\.v[23]/.test(label) || data.merkle !== undefined) {
    throw failedPrecondition(`the asset's hard binding is ${label}${data.merkle === undefined ? '' : ' with Merkle trees (fragmented media)'}; the large-asset verifier checks c2pa.hash.bmff.v2/v3 over whole files only`, {
      details: { reason: 'streaming-unsupported' },
    });
  }
  const expected = asBytes(data.hash);
  if (expected === undefined) throw invalidArgument('the BMFF hash assertion has no hash');
  const exclusions = Array.isArray(data.exclusions) ? (data.exclusions as Array<Record<string, unknown>>) : [];
  const hash = hasherFor(data.alg);
  for (const box of await topLevelBoxes(source)) {
    let excluded = false;
    for (const exclusion of exclusions) if (await excludedBy(source, box, exclusion)) excluded = true;
    if (excluded) continue;
    const offset = new Uint8Array(8);
    new DataView(offset.buffer).setBigUint64(0, BigInt(box.offset));
    hash.update(offset);
    for await (const piece of readRange(source, box.offset, box.length, STREAM_CHUNK_BYTES)) hash.update(piece);
  }
  return bytesEqual(new Uint8Array(hash.digest()), expected);
}

/**
 * Recomputes the hard binding of the manifest `manifestLabel` (in `store`) over the asset, reading
 * it in pieces. Kinds of binding it cannot check are refused (failed_precondition), never passed.
 */
export async function checkHardBinding(source: ByteSource, store: Uint8Array, manifestLabel: string): Promise<HardBindingOutcome> {
  const binding = hardBindingOf(store, manifestLabel);
  const url = `self#jumbf=/c2pa/${manifestLabel}/c2pa.assertions/${binding.label}`;
  if (binding.label.startsWith('c2pa.hash.data')) {
    const matched = await dataHashMatches(source, binding.data);
    return {
      matched,
      entry: matched
        ? { code: 'assertion.dataHash.match', url, explanation: 'data hash valid (checked by the mesh, reading the asset in pieces)' }
        : { code: 'assertion.dataHash.mismatch', url, explanation: 'the asset does not match its data hash: it was changed after signing' },
    };
  }
  if (binding.label.startsWith('c2pa.hash.bmff')) {
    const matched = await bmffHashMatches(source, binding.label, binding.data);
    return {
      matched,
      entry: matched
        ? { code: 'assertion.bmffHash.match', url, explanation: 'BMFF hash valid (checked by the mesh, reading the asset in pieces)' }
        : { code: 'assertion.bmffHash.mismatch', url, explanation: 'the asset does not match its BMFF hash: it was changed after signing' },
    };
  }
  throw failedPrecondition(`the asset's hard binding is ${binding.label}, which the large-asset verifier does not check yet; verify a smaller asset`, { details: { reason: 'streaming-unsupported' } });
}

/** Codes c2pa-rs reports about a hard binding it could not check against an asset it was not given. */
const isBindingEntry = (entry: ValidationStatusEntry) => /\/c2pa\.assertions\/c2pa\.hash\./.test(entry.url ?? '') && /^assertion\.(dataHash|bmffHash|boxesHash|collectionHash)\./.test(entry.code);

/**
 * The engine's report of the store alone, with the hard binding as checked here: the engine's
 * entries about the binding replaced, the validation state recomputed as c2pa-rs does (any error
 * but an untrusted credential: Invalid; an untrusted credential alone: Valid; none: Trusted), and
 * the manifest store JSON's results and state updated to match.
 */
export function withHardBinding(report: ManifestStoreReport, outcome: HardBindingOutcome): ManifestStoreReport {
  const errors = [...report.errors.filter((e) => !isBindingEntry(e)), ...(outcome.matched ? [] : [outcome.entry])];
  const successes = [...report.successes.filter((e) => !isBindingEntry(e)), ...(outcome.matched ? [outcome.entry] : [])];
  const warnings = report.warnings.filter((e) => !isBindingEntry(e));
  const untrustedOnly = errors.every((e) => e.code === 'signingCredential.untrusted');
  const validationState = errors.length === 0 ? 'Trusted' : untrustedOnly ? 'Valid' : 'Invalid';
  let manifestStoreJson = report.manifestStoreJson;
  try {
    const store = JSON.parse(manifestStoreJson) as Record<string, unknown>;
    const results = store.validation_results as { activeManifest?: Record<string, ValidationStatusEntry[] | undefined> } | undefined;
    const active = results?.activeManifest;
    if (active !== undefined) {
      active.success = [...(active.success ?? []).filter((e) => !isBindingEntry(e)), ...(outcome.matched ? [outcome.entry] : [])];
      active.informational = (active.informational ?? []).filter((e) => !isBindingEntry(e));
      active.failure = [...(active.failure ?? []).filter((e) => !isBindingEntry(e)), ...(outcome.matched ? [] : [outcome.entry])];
    }
    if (Array.isArray(store.validation_status)) {
      store.validation_status = [...(store.validation_status as ValidationStatusEntry[]).filter((e) => !isBindingEntry(e)), ...(outcome.matched ? [] : [outcome.entry])];
      if ((store.validation_status as unknown[]).length === 0) delete store.validation_status;
    }
    store.validation_state = validationState;
    manifestStoreJson = JSON.stringify(store, null, 2);
  } catch {
    // Not JSON the engine would have written: the summary above still stands.
  }
  return { ...report, errors, warnings, successes, validationState, manifestStoreJson };
}

/**
 * A large asset verified from its file: the store located, `readStore` (the engine, given the
 * store alone as `application/c2pa`) judges it, then the hard binding is checked here. Null when
 * the asset carries no manifest store.
 */
export async function verifyFromSource(
  source: ByteSource,
  format: string,
  readStore: (store: Uint8Array) => Promise<ManifestStoreReport | null>,
): Promise<ManifestStoreReport | null> {
  const store = await locateManifestStore(source, format);
  if (store === undefined) return null;
  const report = await readStore(store);
  if (report === null) return null;
  if (report.activeManifestLabel === undefined) throw invalidArgument('the manifest store names no active manifest');
  return withHardBinding(report, await checkHardBinding(source, store, report.activeManifestLabel));
}
