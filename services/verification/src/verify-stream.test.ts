import { create } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import { verificationV1 } from '@c2pa-mesh/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerificationTestMesh, type VerificationTestMesh } from './test-support/verification-mesh.js';
import { flipMediaByte, hashMismatchCode, MORE_SAMPLES, readMedia } from './test-support/media.js';

const { ValidationState } = verificationV1;

let t: VerificationTestMesh;
beforeAll(async () => {
  t = await createVerificationTestMesh();
});
afterAll(async () => {
  await t?.close();
});

type StreamMessage = verificationV1.VerifyStreamRequest;
const options = (format: string, totalSize = 0): StreamMessage =>
  create(verificationV1.VerifyStreamRequestSchema, { payload: { case: 'options', value: { format, totalSize: BigInt(totalSize) } } });
const chunk = (bytes: Uint8Array): StreamMessage => create(verificationV1.VerifyStreamRequestSchema, { payload: { case: 'chunk', value: bytes } });

function chunked(asset: Uint8Array, size: number): StreamMessage[] {
  const messages: StreamMessage[] = [];
  for (let at = 0; at < asset.length; at += size) messages.push(chunk(asset.subarray(at, at + size)));
  return messages;
}

async function* stream(messages: StreamMessage[], onSent?: (index: number) => void) {
  for (const [index, message] of messages.entries()) {
    onSent?.(index);
    yield message;
  }
}

const failure = (promise: Promise<unknown>) => promise.then(() => undefined, (e: unknown) => ConnectError.from(e));

describe('VerifyStream', () => {
  it('answers as Verify does for an asset sent in chunks, with or without options', async () => {
    const asset = readMedia('C.jpg');
    const whole = await t.verification().verify({ asset });
    for (const messages of [[options('image/jpeg', asset.length), ...chunked(asset, 16 * 1024)], chunked(asset, 7000)]) {
      const res = await t.verification().verifyStream(stream(messages));
      expect(res.validationState).toBe(ValidationState.VALID);
      expect(res.assetSha256).toBe(whole.assetSha256);
      expect(res.errors.map((e) => e.code)).toEqual(['signingCredential.untrusted']);
      expect(res.format).toBe('image/jpeg');
    }
  });

  it.each(MORE_SAMPLES.map((s) => [s.file, s.format]))('%s signed as %s, sent in 1 KiB chunks: TRUSTED; one changed byte: INVALID', async (file, format) => {
    const original = readMedia(file);
    const signed = await t.sign(original, format, { title: `streamed ${file}` });
    const res = await t.verification().verifyStream(stream([options(format, signed.signedAsset.length), ...chunked(signed.signedAsset, 1024)]));
    expect(res.validationState).toBe(ValidationState.TRUSTED);
    expect(res.format).toBe(format);
    expect(res.assetSha256).toBe(signed.assetSha256);
    expect(res.registered).toBe(true);
    const tampered = await t.verification().verifyStream(stream(chunked(flipMediaByte(original, signed.signedAsset), 1024)));
    expect(tampered.validationState).toBe(ValidationState.INVALID);
    expect(tampered.errors.map((e) => e.code)).toContain(hashMismatchCode(format));
  });

  it('refuses an announced size above the caller limit before any chunk is read', async () => {
    const limited = t.verification({ kind: 'API_KEY', id: 'key_stream', projectId: t.projectId, scopes: new Set(['verify']), limits: { maxAssetBytes: 64 * 1024, requestsPerMinute: 600 } });
    let sent = 0;
    const asset = readMedia('sample1.wav');
    const err = await failure(limited.verifyStream(stream([options('audio/wav', asset.length), ...chunked(asset, 16 * 1024)], (i) => (sent = i))));
    expect(err?.code).toBe(Code.ResourceExhausted);
    expect(sent).toBeLessThan(3);
  });

  it('stops receiving as soon as the chunks cross the caller limit', async () => {
    const limited = t.verification({ kind: 'API_KEY', id: 'key_stream', projectId: t.projectId, scopes: new Set(['verify']), limits: { maxAssetBytes: 64 * 1024, requestsPerMinute: 600 } });
    const asset = readMedia('sample1.wav');
    expect(asset.length).toBeGreaterThan(200 * 1024);
    let sent = 0;
    const messages = chunked(asset, 16 * 1024);
    const err = await failure(limited.verifyStream(stream(messages, (i) => (sent = i))));
    expect(err?.code).toBe(Code.ResourceExhausted);
    expect(err?.rawMessage).toMatch(/larger than/);
    expect(sent).toBeLessThan(messages.length - 1);
  });

  it('chunks that do not add up to total_size are invalid_argument', async () => {
    const asset = readMedia('C.jpg');
    const short = await failure(t.verification().verifyStream(stream([options('', asset.length + 10), ...chunked(asset, 32 * 1024)])));
    expect(short?.code).toBe(Code.InvalidArgument);
    expect(short?.rawMessage).toMatch(/ended after/);
    const long = await failure(t.verification().verifyStream(stream([options('', asset.length - 10), ...chunked(asset, 32 * 1024)])));
    expect(long?.code).toBe(Code.InvalidArgument);
    expect(long?.rawMessage).toMatch(/more than the announced total_size/);
  });

  it('options after a chunk, and an empty stream, are invalid_argument', async () => {
    const asset = readMedia('C.jpg');
    const late = await failure(t.verification().verifyStream(stream([chunk(asset.subarray(0, 100)), options('image/jpeg')])));
    expect(late?.code).toBe(Code.InvalidArgument);
    expect(late?.rawMessage).toMatch(/options must be the first message/);
    const empty = await failure(t.verification().verifyStream(stream([options('image/jpeg')])));
    expect(empty?.code).toBe(Code.InvalidArgument);
    expect(empty?.rawMessage).toMatch(/empty/);
  });
});
