/**
 * Hostile files made at test time: structures that stress a parser (deep nesting, huge declared
 * lengths and counts) behind the magic numbers of real formats. Nothing here is a valid asset.
 */

const u32be = (n: number) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
const u32le = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
const u16le = (n: number) => [n & 0xff, (n >>> 8) & 0xff];
const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));

/** ISO BMFF: an ftyp, then `depth` boxes each holding the next (every size exact). */
export function deeplyNestedBmff(depth: number): Uint8Array {
  const ftyp = [...u32be(16), ...ascii('ftypisom'), ...u32be(0), ...ascii('isom')];
  const total = 16 + depth * 8;
  const bytes = new Uint8Array(total + 8);
  bytes.set(ftyp, 0);
  for (let level = 0; level < depth; level++) {
    const at = 16 + level * 8;
    bytes.set([...u32be(total + 8 - at), ...ascii(level % 2 === 0 ? 'moov' : 'trak')], at);
  }
  bytes.set([...u32be(8), ...ascii('free')], total);
  return bytes;
}

/** ISO BMFF whose second box claims a 64-bit size far beyond the file (a "large size" bomb). */
export function oversizedBmffBox(): Uint8Array {
  return new Uint8Array([...u32be(16), ...ascii('ftypisom'), ...u32be(0), ...ascii('isom'), ...u32be(1), ...ascii('uuid'), 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, ...new Array(64).fill(0)]);
}

/** PNG with a chunk that declares 2 GiB of data (a chunk bomb), then the end. */
export function pngChunkBomb(): Uint8Array {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  const ihdr = [...u32be(13), ...ascii('IHDR'), ...u32be(1), ...u32be(1), 8, 2, 0, 0, 0, 0, 0, 0, 0];
  const bomb = [...u32be(0x7fffffff), ...ascii('caBX'), ...new Array(32).fill(0x41)];
  return new Uint8Array([...signature, ...ihdr, ...bomb]);
}

/** PNG made of thousands of tiny C2PA (caBX) chunks: each one a manifest store to consider. */
export function pngManyManifestChunks(count: number): Uint8Array {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  const ihdr = [...u32be(13), ...ascii('IHDR'), ...u32be(1), ...u32be(1), 8, 2, 0, 0, 0, 0, 0, 0, 0];
  const chunk = [...u32be(8), ...ascii('caBX'), ...u32be(8), ...ascii('jumb'), 0, 0, 0, 0];
  const iend = [...u32be(0), ...ascii('IEND'), 0xae, 0x42, 0x60, 0x82];
  return new Uint8Array([...signature, ...ihdr, ...Array.from({ length: count }, () => chunk).flat(), ...iend]);
}

/** TIFF whose first IFD declares 65535 entries, each pointing far outside the file. */
export function tiffHugeDirectory(): Uint8Array {
  const entries: number[] = [];
  for (let i = 0; i < 600; i++) entries.push(...u16le(0x0100 + i), ...u16le(4), ...u32le(0x3fffffff), ...u32le(0x7ffffff0));
  return new Uint8Array([...ascii('II'), ...u16le(42), ...u32le(8), ...u16le(0xffff), ...entries]);
}

/** TIFF whose IFD chain loops back on itself (a subfile cycle). */
export function tiffDirectoryLoop(): Uint8Array {
  // Header → IFD at 8 with one entry, next IFD offset 8 again.
  return new Uint8Array([...ascii('II'), ...u16le(42), ...u32le(8), ...u16le(1), ...u16le(0x0100), ...u16le(4), ...u32le(1), ...u32le(1), ...u32le(8)]);
}

/** RIFF/WAVE whose chunks declare sizes of 4 GiB. */
export function wavChunkBomb(): Uint8Array {
  return new Uint8Array([...ascii('RIFF'), ...u32le(0xffffffff), ...ascii('WAVE'), ...ascii('fmt '), ...u32le(0xfffffff0), ...new Array(64).fill(0)]);
}

/** JPEG with APP11 (JUMBF) segments whose boxes nest deeper than any manifest store. */
export function jpegNestedJumbf(depth: number): Uint8Array {
  // One APP11 segment: CI "JP", instance 1, sequence 1, then superboxes (jumb) holding each other.
  const boxes: number[] = [];
  for (let level = 0; level < depth; level++) boxes.push(...u32be((depth - level) * 8 + 8), ...ascii('jumb'));
  boxes.push(...u32be(8), ...ascii('jumd'));
  const payload = [...ascii('JP'), 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, ...boxes];
  const length = payload.length + 2;
  if (length > 0xffff) throw new Error('nesting too deep for one APP11 segment');
  return new Uint8Array([0xff, 0xd8, 0xff, 0xeb, (length >> 8) & 0xff, length & 0xff, ...payload, 0xff, 0xd9]);
}

/** An unsigned JPEG that says (XMP dcterms:provenance) its manifest lives at `url`. */
export function jpegWithRemoteManifest(jpeg: Uint8Array, url: string): Uint8Array {
  const xmp = ascii(
    'http://ns.adobe.com/xap/1.0/\u0000' +
      '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">' +
      `<rdf:Description rdf:about="" xmlns:dcterms="http://purl.org/dc/terms/" dcterms:provenance="${url}"/>` +
      '</rdf:RDF></x:xmpmeta>',
  );
  const length = xmp.length + 2;
  const segment = [0xff, 0xe1, (length >> 8) & 0xff, length & 0xff, ...xmp];
  const out = new Uint8Array(jpeg.length + segment.length);
  out.set(jpeg.subarray(0, 2), 0);
  out.set(segment, 2);
  out.set(jpeg.subarray(2), 2 + segment.length);
  return out;
}
