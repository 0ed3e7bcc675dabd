import { Encoder, type Options as CborOptions } from 'cbor-x';

/**
 * JUMBF (ISO/IEC 19566-5) boxes as C2PA lays them out, written by hand: no maintained JavaScript
 * library writes JUMBF, and the layout is small (a box is a 32-bit size, a 4-character type and a
 * payload; a superbox starts with a description box). The UUIDs, toggles and salt boxes follow
 * c2pa-rs's `jumbf/boxes.rs`, whose output this mirrors.
 */

// Plain RFC 8949 CBOR, the options the mesh's COSE builder uses (c2pa-rs rejects cbor-x's extensions).
const cbor = new Encoder({
  useRecords: false,
  tagUint8Array: false,
  useTag259ForMaps: false,
  variableMapSize: true,
  mapsAsObjects: false,
} as CborOptions);
export const encodeCbor = (value: unknown): Uint8Array => new Uint8Array(cbor.encode(value));

const text = new TextEncoder();

/** `XXXX0011-0010-8000-00AA00389B71`: the C2PA content-type UUID of a four-character type. */
export function c2paUuid(fourCc: string): Uint8Array {
  const uuid = new Uint8Array(16);
  uuid.set(text.encode(fourCc), 0);
  uuid.set([0x00, 0x11, 0x00, 0x10, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71], 4);
  return uuid;
}

/** The content types C2PA uses. */
export const UUIDS = {
  store: c2paUuid('c2pa'),
  manifest: c2paUuid('c2ma'),
  assertionStore: c2paUuid('c2as'),
  claim: c2paUuid('c2cl'),
  signature: c2paUuid('c2cs'),
  cbor: c2paUuid('cbor'),
  json: c2paUuid('json'),
} as const;

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** One box: 32-bit big-endian size (header included), type, payload. */
export function box(type: string, payload: Uint8Array | readonly Uint8Array[]): Uint8Array {
  const parts = payload instanceof Uint8Array ? [payload] : payload;
  const length = 8 + parts.reduce((sum, p) => sum + p.length, 0);
  const header = new Uint8Array(8);
  new DataView(header.buffer).setUint32(0, length);
  header.set(text.encode(type), 4);
  return concat([header, ...parts]);
}

/** Description box toggles: requestable, label present, private box present (ISO 19566-5 §B.2). */
const TOGGLE_REQUESTABLE = 0x01;
const TOGGLE_LABEL = 0x02;
const TOGGLE_PRIVATE = 0x10;

/** `jumd`: content type, toggles, NUL-terminated label and, with a salt, the `c2sh` salt box. */
export function descriptionBox(uuid: Uint8Array, label: string, salt?: Uint8Array): Uint8Array {
  const toggles = TOGGLE_REQUESTABLE | TOGGLE_LABEL | (salt === undefined ? 0 : TOGGLE_PRIVATE);
  const parts = [uuid, Uint8Array.of(toggles), text.encode(label), Uint8Array.of(0)];
  if (salt !== undefined) parts.push(box('c2sh', salt));
  return box('jumd', parts);
}

/** The payload of a superbox (what C2PA hashes for a hashed URI): its description, then its children. */
export function superboxPayload(uuid: Uint8Array, label: string, children: readonly Uint8Array[], salt?: Uint8Array): Uint8Array {
  return concat([descriptionBox(uuid, label, salt), ...children]);
}

export function superbox(uuid: Uint8Array, label: string, children: readonly Uint8Array[], salt?: Uint8Array): Uint8Array {
  return box('jumb', superboxPayload(uuid, label, children, salt));
}
