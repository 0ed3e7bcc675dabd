import { HASH_SIZE, nodeHash, type NodeGetter } from './merkle.js';

/**
 * C2SP tlog-tiles addressing: tiles of 256 hashes (height 8). A tile at level L holds complete
 * nodes of tree level 8·L; the entry bundle N holds the entries of level-0 tile N.
 */
export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 256;

export interface TileRef {
  /** Tile level, or 'entries' for an entry bundle. */
  level: number | 'entries';
  index: number;
  /** 1–255 for a partial tile; 256 for a full one. */
  width: number;
}

/** `x001/x234/067` for 1234067. */
export function encodeTileIndex(index: number): string {
  const parts: string[] = [];
  let n = index;
  do {
    parts.unshift(String(n % 1000).padStart(3, '0'));
    n = Math.floor(n / 1000);
  } while (n > 0);
  return parts.map((part, i) => (i < parts.length - 1 ? `x${part}` : part)).join('/');
}

/** `tile/<L>/<N>[.p/<W>]` or `tile/entries/<N>[.p/<W>]`, relative to the log's prefix. */
export function tilePath(tile: TileRef): string {
  const level = tile.level === 'entries' ? 'entries' : String(tile.level);
  return `tile/${level}/${encodeTileIndex(tile.index)}${tile.width < TILE_WIDTH ? `.p/${tile.width}` : ''}`;
}

/** Parses the part after `tile/`; undefined for anything that is not a well-formed tile path. */
export function parseTilePath(path: string): TileRef | undefined {
  const match = /^(entries|0|[1-9][0-9]?)\/((?:x[0-9]{3}\/)*)([0-9]{3})(?:\.p\/([1-9][0-9]{0,2}))?$/.exec(path);
  if (!match) return undefined;
  const level = match[1] === 'entries' ? 'entries' : Number(match[1]);
  if (level !== 'entries' && level > 63) return undefined;
  const groups = [...(match[2] ?? '').split('/').filter((g) => g !== '').map((g) => g.slice(1)), match[3]!];
  // No leading zero groups: index 5 is `005`, never `x000/005`.
  if (groups.length > 1 && groups[0] === '000') return undefined;
  if (groups.length > 6) return undefined;
  const index = groups.reduce((n, g) => n * 1000 + Number(g), 0);
  const width = match[4] === undefined ? TILE_WIDTH : Number(match[4]);
  if (width < 1 || width >= TILE_WIDTH + (match[4] === undefined ? 1 : 0)) return undefined;
  return { level, index, width };
}

/** Complete nodes of tree level 8·L in a tree of `size`: floor(size / 256^L). */
export function nodesAtTileLevel(size: number, level: number): number {
  return Math.floor(size / TILE_WIDTH ** level);
}

/** Width of tile N at level L for a tree of `size` (0: the tile does not exist yet). */
export function tileWidth(size: number, level: number, index: number): number {
  return Math.max(0, Math.min(TILE_WIDTH, nodesAtTileLevel(size, level) - index * TILE_WIDTH));
}

/** The tile that holds complete node (level, index) of the tree, and where in it. */
export function tileOf(level: number, index: number): { tileLevel: number; tileIndex: number; first: number; count: number } {
  const tileLevel = Math.floor(level / TILE_HEIGHT);
  const below = level - tileLevel * TILE_HEIGHT;
  const span = 2 ** below;
  const first = index * span;
  return { tileLevel, tileIndex: Math.floor(first / TILE_WIDTH), first: first % TILE_WIDTH, count: span };
}

/**
 * A NodeGetter over tiles of a tree of `size`: every complete node is one tile hash or the
 * Merkle hash of a run of tile hashes below it. `tiles` answers `level/index` with the tile
 * bytes (as fetched for this tree size), loaded beforehand via `tilesNeeded`.
 */
export function tileNodeGetter(tiles: (tileLevel: number, tileIndex: number) => Uint8Array): NodeGetter {
  return (level, index) => {
    const at = tileOf(level, index);
    const tile = tiles(at.tileLevel, at.tileIndex);
    const hashAt = (i: number) => {
      const offset = (at.first + i) * HASH_SIZE;
      if (offset + HASH_SIZE > tile.length) throw new RangeError(`tile ${at.tileLevel}/${at.tileIndex} is too short for node ${level}/${index}`);
      return tile.subarray(offset, offset + HASH_SIZE);
    };
    const mth = (from: number, n: number): Uint8Array => (n === 1 ? hashAt(from) : nodeHash(mth(from, n / 2), mth(from + n / 2, n / 2)));
    return mth(0, at.count);
  };
}

/** The tiles (with their widths for a tree of `size`) that hold the given complete nodes. */
export function tilesNeeded(nodes: ReadonlyArray<[number, number]>, size: number): TileRef[] {
  const seen = new Map<string, TileRef>();
  for (const [level, index] of nodes) {
    const at = tileOf(level, index);
    const key = `${at.tileLevel}/${at.tileIndex}`;
    if (!seen.has(key)) seen.set(key, { level: at.tileLevel, index: at.tileIndex, width: tileWidth(size, at.tileLevel, at.tileIndex) });
  }
  return [...seen.values()];
}

/** Splits an entry bundle into its entries (big-endian uint16 length prefixes). */
export function parseEntryBundle(bundle: Uint8Array): Uint8Array[] {
  const entries: Uint8Array[] = [];
  for (let at = 0; at < bundle.length; ) {
    if (at + 2 > bundle.length) throw new RangeError('entry bundle ends inside a length prefix');
    const length = (bundle[at]! << 8) | bundle[at + 1]!;
    if (at + 2 + length > bundle.length) throw new RangeError('entry bundle ends inside an entry');
    entries.push(bundle.subarray(at + 2, at + 2 + length));
    at += 2 + length;
  }
  return entries;
}

export function encodeEntryBundle(entries: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(entries.reduce((n, e) => n + 2 + e.length, 0));
  let at = 0;
  for (const entry of entries) {
    out[at] = entry.length >> 8;
    out[at + 1] = entry.length & 0xff;
    out.set(entry, at + 2);
    at += 2 + entry.length;
  }
  return out;
}

/** Largest entry an entry bundle can carry. */
export const MAX_ENTRY_BYTES = 0xffff;
