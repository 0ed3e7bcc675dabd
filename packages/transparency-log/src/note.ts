import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { EMPTY_ROOT } from './merkle.js';

/**
 * C2SP signed notes (signed-note.md), checkpoints (tlog-checkpoint.md) and Ed25519 cosignatures
 * (tlog-cosignature.md, cosignature/v1). Node's crypto does the Ed25519; the framing is a few
 * lines of text, written here as no maintained npm package implements it.
 */

/** Signature type bytes of the key-id computation. */
export const NOTE_ED25519 = 0x01;
export const COSIGNATURE_ED25519 = 0x04;

export interface Checkpoint {
  origin: string;
  size: number;
  root: Uint8Array;
  /** Extension lines, each without its newline. */
  extensions: string[];
}

export interface NoteSignature {
  name: string;
  keyId: Uint8Array;
  /** The signature bytes after the 4-byte key id. */
  signature: Uint8Array;
}

export interface SignedNote {
  /** The text, ending in a newline, that the signatures cover. */
  body: string;
  signatures: NoteSignature[];
}

const EM_DASH = '\u2014';
const MAX_NOTE_BYTES = 1024 * 1024;

export function checkpointBody(checkpoint: Checkpoint): string {
  return [checkpoint.origin, String(checkpoint.size), Buffer.from(checkpoint.root).toString('base64'), ...checkpoint.extensions].join('\n') + '\n';
}

export function parseCheckpointBody(body: string): Checkpoint {
  const lines = body.split('\n');
  if (lines.length < 4 || lines.at(-1) !== '') throw new SyntaxError('a checkpoint has an origin, a size and a root hash line, each ending in a newline');
  const [origin, sizeText, rootText] = lines as [string, string, string];
  if (origin === '') throw new SyntaxError('the checkpoint origin line is empty');
  if (!/^(0|[1-9][0-9]{0,15})$/.test(sizeText)) throw new SyntaxError('the checkpoint size is not a decimal number without leading zeros');
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) throw new SyntaxError('the checkpoint size is too large');
  const root = Buffer.from(rootText, 'base64');
  if (root.length !== 32 || root.toString('base64') !== rootText) throw new SyntaxError('the checkpoint root hash is not 32 bytes of standard base64');
  return { origin, size, root: new Uint8Array(root), extensions: lines.slice(3, -1) };
}

export function parseSignedNote(text: string): SignedNote {
  if (Buffer.byteLength(text, 'utf8') > MAX_NOTE_BYTES) throw new SyntaxError('the note is too large');
  const split = text.lastIndexOf('\n\n');
  if (split < 0) throw new SyntaxError('a signed note has a blank line between its text and its signatures');
  const body = text.slice(0, split + 1);
  const signatureLines = text.slice(split + 2).split('\n');
  if (signatureLines.at(-1) !== '') throw new SyntaxError('the note does not end in a newline');
  const signatures = signatureLines.slice(0, -1).map((line) => {
    const match = new RegExp(`^${EM_DASH} (\\S+) ([A-Za-z0-9+/=]+)$`).exec(line);
    if (!match) throw new SyntaxError('a note signature line is "— <name> <base64>"');
    const bytes = Buffer.from(match[2]!, 'base64');
    if (bytes.length < 5) throw new SyntaxError('a note signature is shorter than its key id');
    return { name: match[1]!, keyId: new Uint8Array(bytes.subarray(0, 4)), signature: new Uint8Array(bytes.subarray(4)) };
  });
  if (signatures.length === 0) throw new SyntaxError('the note has no signature');
  return { body, signatures };
}

export function formatSignedNote(note: SignedNote): string {
  return `${note.body}\n${note.signatures.map(signatureLine).join('')}`;
}

export function signatureLine(signature: NoteSignature): string {
  return `${EM_DASH} ${signature.name} ${Buffer.concat([signature.keyId, signature.signature]).toString('base64')}\n`;
}

export function keyId(name: string, type: number, publicKey: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(`${name}\n`).update(new Uint8Array([type])).update(publicKey).digest().subarray(0, 4));
}

/** The raw 32-byte Ed25519 public key of a key object. */
export function rawEd25519PublicKey(key: KeyObject): Uint8Array {
  const jwk = (key.type === 'private' ? createPublicKey(key) : key).export({ format: 'jwk' });
  if (jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') throw new TypeError('not an Ed25519 key');
  return new Uint8Array(Buffer.from(jwk.x, 'base64url'));
}

function ed25519PublicKey(raw: Uint8Array): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') }, format: 'jwk' });
}

/** A note verifier key: `<name>+<key id hex>+<base64(type || public key)>`. */
export interface VerifierKey {
  name: string;
  type: number;
  keyId: Uint8Array;
  publicKey: Uint8Array;
}

export function formatVerifierKey(name: string, type: number, publicKey: Uint8Array): string {
  return `${name}+${Buffer.from(keyId(name, type, publicKey)).toString('hex')}+${Buffer.concat([new Uint8Array([type]), publicKey]).toString('base64')}`;
}

export function parseVerifierKey(text: string): VerifierKey {
  const match = /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/=]+)$/.exec(text.trim());
  if (!match) throw new SyntaxError('a verifier key is <name>+<8 hex digits>+<base64 key>');
  const material = Buffer.from(match[3]!, 'base64');
  const type = material[0];
  if ((type !== NOTE_ED25519 && type !== COSIGNATURE_ED25519) || material.length !== 33) throw new SyntaxError('only Ed25519 verifier keys (type 0x01 or 0x04) are supported');
  const publicKey = new Uint8Array(material.subarray(1));
  const id = keyId(match[1]!, type, publicKey);
  if (Buffer.from(id).toString('hex') !== match[2]) throw new SyntaxError('the verifier key id does not match its name and key');
  return { name: match[1]!, type, keyId: id, publicKey };
}

export interface NoteSigner {
  name: string;
  publicKey: Uint8Array;
  verifierKey: string;
  sign(body: string): NoteSignature;
}

/** The log's signer: Ed25519 note signatures (type 0x01) over the checkpoint body. */
export function createNoteSigner(name: string, privateKeyPkcs8Der: Uint8Array): NoteSigner {
  const key = createPrivateKey({ key: Buffer.from(privateKeyPkcs8Der), format: 'der', type: 'pkcs8' });
  const publicKey = rawEd25519PublicKey(key);
  const id = keyId(name, NOTE_ED25519, publicKey);
  return {
    name,
    publicKey,
    verifierKey: formatVerifierKey(name, NOTE_ED25519, publicKey),
    sign: (body) => ({ name, keyId: id, signature: new Uint8Array(sign(null, Buffer.from(body, 'utf8'), key)) }),
  };
}

/** Is one of the note's signatures a valid Ed25519 note signature by `verifier`? */
export function verifyNoteSignature(note: SignedNote, verifier: VerifierKey): boolean {
  if (verifier.type !== NOTE_ED25519) return false;
  const key = ed25519PublicKey(verifier.publicKey);
  return note.signatures.some(
    (s) => s.name === verifier.name && Buffer.from(s.keyId).equals(verifier.keyId) && s.signature.length === 64 && verify(null, Buffer.from(note.body, 'utf8'), key, s.signature),
  );
}

function cosignedMessage(body: string, timestamp: number): Buffer {
  return Buffer.from(`cosignature/v1\ntime ${timestamp}\n${body}`, 'utf8');
}

/** A cosigner (witness): cosignature/v1 over a checkpoint body it has verified. */
export function createCosigner(name: string, privateKeyPkcs8Der: Uint8Array) {
  const key = createPrivateKey({ key: Buffer.from(privateKeyPkcs8Der), format: 'der', type: 'pkcs8' });
  const publicKey = rawEd25519PublicKey(key);
  const id = keyId(name, COSIGNATURE_ED25519, publicKey);
  return {
    name,
    publicKey,
    verifierKey: formatVerifierKey(name, COSIGNATURE_ED25519, publicKey),
    cosign(body: string, timestamp = Math.floor(Date.now() / 1000)): NoteSignature {
      const time = Buffer.alloc(8);
      time.writeBigUInt64BE(BigInt(timestamp));
      const signature = sign(null, cosignedMessage(body, timestamp), key);
      return { name, keyId: id, signature: new Uint8Array(Buffer.concat([time, signature])) };
    },
  };
}

/** The cosignature's time when `signature` is a valid cosignature/v1 by `verifier` over `body`. */
export function verifyCosignature(body: string, signature: NoteSignature, verifier: VerifierKey): number | undefined {
  if (verifier.type !== COSIGNATURE_ED25519 || signature.name !== verifier.name || !Buffer.from(signature.keyId).equals(verifier.keyId)) return undefined;
  if (signature.signature.length !== 8 + 64) return undefined;
  const timestamp = Buffer.from(signature.signature.subarray(0, 8)).readBigUInt64BE();
  if (timestamp > 2n ** 63n - 1n) return undefined;
  const ok = verify(null, cosignedMessage(body, Number(timestamp)), ed25519PublicKey(verifier.publicKey), signature.signature.subarray(8));
  return ok ? Number(timestamp) : undefined;
}

export const EMPTY_TREE_ROOT = EMPTY_ROOT;
