/**
 * Property-based fuzzing of everything a caller controls, through a real TLS listener: every RPC's
 * request message (random bytes as protobuf, random JSON, structurally valid messages with random
 * field values), the manifest definition, and the media parsers (format sniffing, verification of
 * mutated media). No answer may be `internal`, and the mesh must keep serving.
 *
 * Fixed seed and bounded runs (FUZZ_SEED, FUZZ_RUNS to explore further), so that CI is repeatable.
 */
import { readFile } from 'node:fs/promises';
import http2 from 'node:http2';
import path from 'node:path';
import { create, type DescField, type DescMessage, type DescMethod, type DescService, type MessageShape } from '@bufbuild/protobuf';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { checkDeclaredFormat, sniffFormat } from '@c2pa-mesh/engine';
import { isMeshError } from '@c2pa-mesh/errors';
import { AccountService, CertificateAuthorityService, Health, OnboardingService, RegistryService, SigningService, VerificationService } from '@c2pa-mesh/proto';
import type { RunningListener } from '@c2pa-mesh/server';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareManifestDefinition } from '@c2pa-mesh/service-signing';
import { createTestMesh, startTestListener, type TestMesh } from './testing.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20_261_206);
const RUNS = Number(process.env.FUZZ_RUNS ?? 1);
const MEDIA = path.resolve(import.meta.dirname, '../../../test/fixtures/media');
const SERVICES: DescService[] = [SigningService, VerificationService, CertificateAuthorityService, RegistryService, AccountService, OnboardingService, Health];
/**
 * Calls that reach out to a URL the caller names: with random URLs they would look up random host
 * names. Their refusals are tested where the address policy is.
 */
const REACHES_OUT = new Set(['VerifyUrl', 'CreateWebhook']);
/** Server-streaming calls that stay open by design. */
const STAYS_OPEN = new Set(['Watch']);

let mesh: TestMesh;
let listener: RunningListener;
let tls: { ca: string; cert: string; key: string };
let session: http2.ClientHttp2Session;

beforeAll(async () => {
  mesh = await createTestMesh();
  ({ listener, adminTls: tls } = await startTestListener(mesh));
  session = http2.connect(listener.url, { ...tls, maxSessionMemory: 1000 });
  session.on('error', () => {});
}, 120_000);

afterAll(async () => {
  session?.close();
  await listener?.close(0);
  await mesh?.close();
});

const unaryMethods = SERVICES.flatMap((service) => service.methods.filter((m) => m.methodKind === 'unary' || m.methodKind === 'server_streaming'));

/** Posts `body` to `method` over the Connect protocol; returns the code of the answer ('ok' or the error code). */
function post(method: DescMethod, contentType: 'application/proto' | 'application/json', body: Uint8Array | string): Promise<string> {
  const streaming = method.methodKind !== 'unary';
  return new Promise((resolve) => {
    const stream = session.request({
      ':method': 'POST',
      ':path': `/${method.parent.typeName}/${method.name}`,
      'content-type': streaming ? contentType.replace('application/', 'application/connect+') : contentType,
      'connect-timeout-ms': '20000',
    });
    let status = 0;
    const chunks: Buffer[] = [];
    stream.on('response', (headers) => (status = Number(headers[':status'])));
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', () => {});
    stream.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      if (streaming) {
        // Connect streaming: the end-of-stream message carries the error, if any.
        const code = /"code":"([a-z_]+)"/.exec(text)?.[1];
        resolve(code ?? (status === 200 ? 'ok' : `http ${status}`));
        return;
      }
      if (status === 200) return resolve('ok');
      try {
        resolve((JSON.parse(text) as { code?: string }).code ?? `http ${status}`);
      } catch {
        resolve(`http ${status}`);
      }
    });
    if (STAYS_OPEN.has(method.name)) setTimeout(() => stream.close(http2.constants.NGHTTP2_CANCEL), 200);
    const payload = typeof body === 'string' ? Buffer.from(body) : body;
    stream.end(streaming ? Buffer.concat([Buffer.from([0, ...u32(payload.length)]), payload]) : payload);
  });
}

function u32(n: number): number[] {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
}

const params = (numRuns: number) => ({ seed: SEED, numRuns: numRuns * RUNS, endOnFailure: true });

describe('every RPC, random request bodies', () => {
  it('random bytes as a binary message: never internal', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...unaryMethods), fc.uint8Array({ maxLength: 256 }), async (method, bytes) => {
        const code = await post(method, 'application/proto', bytes);
        expect(code, `${method.name} with ${Buffer.from(bytes).toString('hex')}`).not.toMatch(/internal|unknown|http 5/);
      }),
      params(100),
    );
  }, 60_000);

  it('random JSON as a JSON message: never internal', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...unaryMethods), fc.oneof(fc.json({ maxDepth: 4 }), fc.string({ maxLength: 64 })), async (method, json) => {
        const code = await post(method, 'application/json', json);
        expect(code, `${method.name} with ${json}`).not.toMatch(/internal|unknown|http 5/);
      }),
      params(100),
    );
  }, 60_000);
});

/** A message of `schema` with random field values (depth-bounded), as plain init data. */
function messageOf(schema: DescMessage, depth = 0): fc.Arbitrary<Record<string, unknown>> {
  const fields: Record<string, fc.Arbitrary<unknown>> = {};
  for (const field of schema.fields) {
    const value = fieldValue(field, depth);
    if (value) fields[field.localName] = value;
  }
  return fc.record(fields, { requiredKeys: [] });
}

function scalar(type: number): fc.Arbitrary<unknown> {
  // ScalarType numbering of protobuf: 9 string, 12 bytes, 8 bool, 3/4/6/16/18 64-bit ints, 1/2 floats.
  switch (type) {
    case 9:
      return fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('', 'image/jpeg', 'prj_x', 'sign', '2026-01-01T00:00:00Z', '../../etc/passwd', '\u0000'));
    case 12:
      return fc.uint8Array({ maxLength: 200 });
    case 8:
      return fc.boolean();
    case 3:
    case 4:
    case 6:
    case 16:
    case 18:
      return fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((v) => (type === 4 || type === 6 ? (v < 0n ? -v : v) : v));
    case 1:
    case 2:
      return fc.double({ noNaN: false });
    case 13:
    case 7:
      return fc.integer({ min: 0, max: 2 ** 32 - 1 });
    default:
      return fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
  }
}

function fieldValue(field: DescField, depth: number): fc.Arbitrary<unknown> | undefined {
  switch (field.fieldKind) {
    case 'scalar':
      return scalar(field.scalar);
    case 'enum':
      return fc.oneof(fc.constantFrom(...field.enum.values.map((v) => v.number)), fc.integer({ min: -5, max: 100 }));
    case 'message':
      return depth < 2 && !field.message.typeName.startsWith('google.protobuf.') ? messageOf(field.message, depth + 1) : undefined;
    case 'list':
      if (field.listKind === 'scalar') return fc.array(scalar(field.scalar), { maxLength: 4 });
      if (field.listKind === 'enum') return fc.array(fc.integer({ min: 0, max: 10 }), { maxLength: 4 });
      return depth < 2 ? fc.array(messageOf(field.message, depth + 1), { maxLength: 3 }) : undefined;
    case 'map':
      return depth < 2 && field.mapKind === 'scalar' ? fc.dictionary(fc.string({ maxLength: 10 }), scalar(field.scalar), { maxKeys: 3 }) : undefined;
  }
}

describe('every RPC, structurally valid messages with random values', () => {
  const methods = unaryMethods.filter((m) => !REACHES_OUT.has(m.name));
  it('as an admin, in binary and JSON: never internal', async () => {
    const transports = {
      binary: createConnectTransport({ baseUrl: listener.url, httpVersion: '2', nodeOptions: tls }),
      json: createConnectTransport({ baseUrl: listener.url, httpVersion: '2', useBinaryFormat: false, nodeOptions: tls }),
    };
    const arbitrary = fc.constantFrom(...methods).chain((method) => fc.tuple(fc.constant(method), messageOf(method.input), fc.constantFrom<'binary' | 'json'>('binary', 'json')));
    await fc.assert(
      fc.asyncProperty(arbitrary, async ([method, init, encoding]) => {
        let message: MessageShape<DescMessage>;
        try {
          message = create(method.input, init as never);
        } catch {
          return; // not a message of this type after all (e.g. an out-of-range value)
        }
        const client = createClient(method.parent, transports[encoding]) as unknown as Record<string, (m: unknown, o: unknown) => unknown>;
        let code = 'ok';
        try {
          if (method.methodKind === 'server_streaming') {
            const abort = new AbortController();
            setTimeout(() => abort.abort(), 300);
            for await (const _ of client[method.localName](message, { signal: abort.signal }) as AsyncIterable<unknown>) break;
          } else {
            await client[method.localName](message, { timeoutMs: 20_000 });
          }
        } catch (error) {
          code = Code[ConnectError.from(error).code];
        }
        expect(code, `${method.name} (${encoding}) ${JSON.stringify(init, (_, v) => (typeof v === 'bigint' ? String(v) : v instanceof Uint8Array ? `${v.length} bytes` : v))}`).not.toMatch(/Internal|Unknown/);
      }),
      params(100),
    );
  }, 60_000);
});

describe('the manifest definition', () => {
  it('any JSON value, any text: a refusal with a client code, never a crash or internal', () => {
    const definition = fc.oneof(
      fc.jsonValue({ maxDepth: 6 }).map((v) => JSON.stringify(v)),
      fc.string({ maxLength: 200 }),
      // Definitions near the real shape, with random contents in every place.
      fc
        .record({
          title: fc.jsonValue({ maxDepth: 2 }),
          claim_generator_info: fc.array(fc.record({ name: fc.jsonValue({ maxDepth: 1 }), version: fc.jsonValue({ maxDepth: 1 }) }, { requiredKeys: [] }), { maxLength: 3 }),
          ingredients: fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 3 }),
          assertions: fc.array(
            fc.record({
              label: fc.constantFrom('c2pa.actions', 'c2pa.actions.v2', 'c2pa.actions__1', 'stds.schema-org.CreativeWork', ''),
              data: fc.oneof(fc.jsonValue({ maxDepth: 4 }), fc.record({ actions: fc.array(fc.record({ action: fc.constantFrom('c2pa.created', 'c2pa.opened', 'c2pa.edited', 'c2pa.placed', ''), digitalSourceType: fc.jsonValue({ maxDepth: 1 }), parameters: fc.jsonValue({ maxDepth: 3 }) }, { requiredKeys: [] }), { maxLength: 4 }) })),
            }, { requiredKeys: [] }),
            { maxLength: 4 },
          ),
        }, { requiredKeys: [] })
        .map((v) => JSON.stringify(v)),
    );
    fc.assert(
      fc.property(definition, (json) => {
        try {
          prepareManifestDefinition(json);
        } catch (error) {
          expect(isMeshError(error), `${json}: ${(error as Error).message}`).toBe(true);
          if (isMeshError(error)) expect(['invalid_argument', 'resource_exhausted']).toContain(error.code);
        }
      }),
      { seed: SEED, numRuns: 2000 * RUNS },
    );
  });
});

describe('media parsers', () => {
  const fixtures = ['C.jpg', 'no_manifest.jpg', 'sample1.png', 'sample1.webp', 'sample1.avif', 'test.tiff', 'sample1.wav'];

  /** A fixture with random bytes overwritten, a random cut, or a random splice. */
  const mutated = (media: Uint8Array[]) =>
    fc.tuple(fc.integer({ min: 0, max: media.length - 1 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 16 }), fc.option(fc.nat()), fc.option(fc.nat())).map(([which, flips, cut, spliceAt]) => {
      const bytes = Uint8Array.from(media[which]);
      for (const [at, value] of flips) bytes[at % bytes.length] = value;
      let out: Uint8Array = cut === null ? bytes : bytes.subarray(0, Math.max(1, cut % bytes.length));
      if (spliceAt !== null) out = Uint8Array.from([...out.subarray(0, spliceAt % out.length), ...out.subarray((spliceAt * 7) % out.length)]);
      return out;
    });

  it('format sniffing and the declared-format check take any bytes', async () => {
    const media = await Promise.all(fixtures.filter((name) => !/\.(wav|tiff)$/.test(name)).map(async (name) => new Uint8Array(await readFile(path.join(MEDIA, name)))));
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 64 }), mutated(media)), fc.constantFrom('image/jpeg', 'image/png', 'video/mp4', 'audio/wav', 'jpg', '', 'text/plain'), (bytes, declared) => {
        sniffFormat(bytes);
        try {
          checkDeclaredFormat(declared, bytes);
        } catch (error) {
          expect(isMeshError(error), (error as Error).message).toBe(true);
        }
      }),
      { seed: SEED, numRuns: 200 * RUNS },
    );
  });

  it('Verify of mutated media: never internal, and the mesh keeps serving', async () => {
    const media = await Promise.all(fixtures.map(async (name) => new Uint8Array(await readFile(path.join(MEDIA, name)))));
    const client = createClient(VerificationService, createConnectTransport({ baseUrl: listener.url, httpVersion: '2', nodeOptions: tls }));
    await fc.assert(
      fc.asyncProperty(mutated(media), fc.constantFrom('', 'image/jpeg', 'image/png', 'image/webp', 'image/avif', 'image/tiff', 'audio/wav'), async (asset, format) => {
        const code = await client.verify({ asset, format }, { timeoutMs: 30_000 }).then(
          () => 'ok',
          (error: unknown) => Code[ConnectError.from(error).code],
        );
        expect(code, `${asset.length} bytes as "${format}"`).not.toMatch(/Internal|Unknown/);
      }),
      params(25),
    );
    const health = createClient(Health, createConnectTransport({ baseUrl: listener.url, httpVersion: '2', nodeOptions: tls }));
    expect((await health.check({})).status).toBe(1);
  }, 60_000);
});
