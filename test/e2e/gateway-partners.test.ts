import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CertificateAuthorityService } from '@c2pa-mesh/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanUp, removeDir } from '../support/cleanup.js';
import { meshClient } from '../support/mesh-clients.js';
import { FIXTURES, startMeshProcess, type MeshProcess } from '../support/start-mesh.js';
import { adminRegistry, createProjectKey, curl, runDocumentedCommand, unique } from './gateway-support.js';

const sha256 = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

// DigiCert's example request, as printed (its `–location` typo restored to `--location`; the
// Cookie is its console session and means nothing here). Postman or code add the client
// certificate for mTLS; with curl that is --cert/--key.
const DOC_DIGICERT_URL = 'https://clientauth.demo.one.digicert.com';
const DOC_DIGICERT_IMAGE = '/Users/shantanu.soni/Downloads/All old 20 Feb 2026/01f6c3cc-98d1-45a7-8d05-d82358258061.png';
const DOC_DIGICERT_SIGN = `curl --location 'https://clientauth.demo.one.digicert.com/documentmanager/api/c2pa/v1/sign' \\
--header 'Cookie: visid_incap_2533550=/xdA/SbiSvOTEEdWgVq5lHmOnWgAAAAAQUIPAAAAAAA89dbzRiAbRMj4JblxUAfn; incap_ses_935_2499114=Fe1keigTblGnl1C9tcn5DLE6nGkAAAAASI2ZttBq6ZBt8aT8YUmG3Q==; visid_incap_2499114=hDFJfApTT7eAykH2lXwM034znGgAAAAAQUIPAAAAAAAo1k/NIqBxXagUaRIBNrEP' \\
--form 'hashAlgo="SHA256"' \\
--form 'signAlgo="1.2.840.113549.1.1.10"' \\
--form 'signAlgoParams="MTIzNDQ="' \\
--form 'accountId="599020de-5ea7-4c0c-ac01-ceb4bb9802b3"' \\
--form 'image=@"/Users/shantanu.soni/Downloads/All old 20 Feb 2026/01f6c3cc-98d1-45a7-8d05-d82358258061.png"' \\
--form 'schemaField="author,publisher"'`;

describe('Verimago and DigiCert clients against the gateway', () => {
  let mesh: MeshProcess;
  let scratch: string;
  let key: string;
  let projectId: string;
  const tls = () => ['--cacert', mesh.files.meshCa];

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'c2pa-mesh-partners-e2e-'));
    mesh = await startMeshProcess();
    ({ key, projectId } = await createProjectKey(mesh, { name: 'Newsroom' }));
  });
  afterAll(() => cleanUp({ mesh: () => mesh?.stop(), scratch: () => removeDir(scratch) }));

  describe('Verimago: hash-only signing and the public lookup', () => {
    const signHash = (body: object | string, apiKey: string | null = key) =>
      curl(['-X', 'POST', `${mesh.url}/v1/sign`, ...tls(), ...(apiKey ? ['-H', `Authorization: Bearer ${apiKey}`] : []), '-H', 'Content-Type: application/json', '-d', typeof body === 'string' ? body : JSON.stringify(body)]);
    const lookUp = (hash: string) => curl([`${mesh.url}/v1/verify/${hash}`, ...tls()]);
    const documentBody = (contentHash: string, contentType?: string) => ({
      contentHash,
      headline: 'Breaking: City council vote',
      journalist: 'Jane Smith',
      location: 'Portland, OR',
      recordedAt: '2026-03-28T14:30:00Z',
      ...(contentType ? { contentType } : {}),
      captureMode: 'VIDEO',
      tags: ['politics', 'local'],
    });

    it('signs the documented request (201) and finds it by hash without credentials, GREEN', async () => {
      const contentHash = sha256(randomBytes(64));
      const signed = await signHash(documentBody(contentHash, 'AUTHENTIC'));
      expect(signed.status, signed.body.toString()).toBe(201);
      const body = signed.json();
      expect(body).toMatchObject({ contentHash, shieldState: 'GREEN', verifyUrl: `${mesh.url}/v1/verify/${contentHash}` });
      // A COSE_Sign1 (CBOR tag 18) over the record, base64 as Verimago sends it.
      expect(Buffer.from(body.signature, 'base64')[0]).toBe(0xd2);
      expect(Date.parse(body.signedAt)).toBeGreaterThan(Date.now() - 5 * 60_000);

      const found = await curl([body.verifyUrl, ...tls()]);
      expect(found.status).toBe(200);
      expect(found.json()).toMatchObject({
        verified: true,
        shieldState: 'GREEN',
        journalist: 'Jane Smith',
        headline: 'Breaking: City council vote',
        signedAt: body.signedAt,
        contentType: 'AUTHENTIC',
        certStatus: 'ACTIVE',
        publisher: 'c2pa-mesh default signer',
      });
      expect(found.headers['access-control-allow-origin']).toBe('*');
    });

    it('shows AI_ENHANCED as BLUE, AI_GENERATED as AMBER, a missing contentType as AUTHENTIC', async () => {
      for (const [contentType, shield] of [['AI_ENHANCED', 'BLUE'], ['AI_GENERATED', 'AMBER'], [undefined, 'GREEN']] as const) {
        const contentHash = sha256(randomBytes(64));
        const signed = await signHash(documentBody(contentHash, contentType));
        expect(signed.json().shieldState).toBe(shield);
        expect((await lookUp(contentHash)).json()).toMatchObject({ verified: true, shieldState: shield });
      }
    });

    it('answers an unknown hash with 404 GREY, and a malformed one with 400', async () => {
      const unknown = await lookUp(sha256(randomBytes(8)));
      expect(unknown.status).toBe(404);
      expect(unknown.json()).toMatchObject({ verified: false, shieldState: 'GREY' });
      const malformed = await lookUp('sha256:not-hex');
      expect(malformed.status).toBe(400);
      expect(malformed.json().error).toMatch(/not a content hash/);
    });

    it('finds a file signed through /v1/sign by the hash of the signed file', async () => {
      const manifest = '{"claim_generator":"Newsroom CMS/2.0","title":"Council","assertions":[{"label":"c2pa.actions","data":{"actions":[{"action":"c2pa.created","digitalSourceType":"http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"}]}}]}';
      const res = await curl(['-X', 'POST', `${mesh.url}/v1/sign`, ...tls(), '-H', `Authorization: Bearer ${key}`, '-F', `file=@${path.join(FIXTURES, 'sample1.webp')}`, '-F', `manifest=${manifest}`, '-F', 'format=image/webp']);
      expect(res.status).toBe(200);
      const found = await lookUp(sha256(res.body));
      expect(found.json()).toMatchObject({ verified: true, kind: 'ASSET', format: 'image/webp', headline: 'Council', certStatus: 'ACTIVE' });
    });

    it('refuses bad requests with 400 and callers without a key with 401, as {error}', async () => {
      const missing = await signHash({ contentHash: sha256(randomBytes(8)) });
      expect(missing.status).toBe(400);
      expect(missing.json().error).toMatch(/missing field "headline"/);
      const broken = await signHash('{"contentHash": "sha256:');
      expect(broken.status).toBe(400);
      expect(broken.json().error).toMatch(/not valid JSON/);
      const wrongHash = await signHash({ contentHash: 'md5:abc', headline: 'x' });
      expect(wrongHash.status).toBe(400);
      const anonymous = await signHash(documentBody(sha256(randomBytes(8))), null);
      expect(anonymous.status).toBe(401);
      expect(anonymous.json()).toMatchObject({ error: expect.stringMatching(/needs an identity/), request_id: anonymous.headers['x-request-id'] });
    });
  });

  describe('DigiCert: image signing for mTLS partners', () => {
    let certPath: string;
    let keyPath: string;
    const mtls = () => [...tls(), '--cert', certPath, '--key', keyPath];
    const digiCertForm = (fields: Record<string, string>) => Object.entries(fields).flatMap(([name, value]) => ['--form', `${name}=${value}`]);
    const valid = { hashAlgo: 'SHA256', signAlgo: '1.2.840.10045.4.3.2', signAlgoParams: 'MTIzNDQ=', accountId: '599020de-5ea7-4c0c-ac01-ceb4bb9802b3', schemaField: 'author,publisher' };

    beforeAll(async () => {
      // The partner's client certificate from the mesh CA, bound to the project with `sign`
      // and `verify`; and an RSA-PSS signing credential for the project, as DigiCert's example
      // asks for RSASSA-PSS.
      const ca = meshClient(CertificateAuthorityService, mesh.url, { caPath: mesh.files.meshCa, certPath: mesh.files.adminCert, keyPath: mesh.files.adminKey });
      const issued = await ca.issueCertificate({ profile: 'MESH_CLIENT', commonName: 'newsroom-cms', organization: 'Example News', projectId });
      certPath = path.join(scratch, 'partner.pem');
      keyPath = path.join(scratch, 'partner-key.pem');
      await writeFile(certPath, issued.certificate!.certificatePem);
      await writeFile(keyPath, issued.privateKeyPem, { mode: 0o600 });
      await adminRegistry(mesh).createClientBinding({ projectId, scopes: ['sign', 'verify'], certificateMatch: { case: 'certificatePem', value: issued.certificate!.certificatePem }, name: unique('Newsroom CMS') });
      await ca.issueCertificate({ profile: 'C2PA_SIGNING', commonName: 'Example News Signer', organization: 'Example News', keyAlgorithm: 'PS256', projectId });
    });

    it('runs DigiCert\'s example request over mTLS and returns a signed image that verifies Trusted', async () => {
      const image = path.join(scratch, '01f6c3cc-98d1-45a7-8d05-d82358258061.png');
      await writeFile(image, await readFile(path.join(FIXTURES, 'sample1.png')));
      const replacements = { [DOC_DIGICERT_URL]: mesh.url, [DOC_DIGICERT_IMAGE]: image, 'curl --location': `curl --cert ${certPath} --key ${keyPath} --location` };
      const res = await runDocumentedCommand(DOC_DIGICERT_SIGN, replacements, { cwd: scratch, caFile: mesh.files.meshCa });
      expect(res.code, res.stderr).toBe(0);
      const body = JSON.parse(res.stdout.toString('utf8'));
      expect(body).toMatchObject({
        file_name: 'signed-01f6c3cc-98d1-45a7-8d05-d82358258061.png',
        mime_type: 'image/png',
        hash_algo: 'SHA256',
        sign_algo: '1.2.840.113549.1.1.10',
      });
      const signedManifest = JSON.parse(body.signed_manifest);
      const active = signedManifest.manifests[signedManifest.active_manifest];
      expect(active.title).toBe('signed-01f6c3cc-98d1-45a7-8d05-d82358258061.png');
      expect(active.signature_info).toMatchObject({ alg: 'Ps256', common_name: 'Example News Signer' });
      const creativeWork = active.assertions.find((a: { label: string }) => a.label.startsWith('stds.schema-org.CreativeWork')).data;
      expect(creativeWork.author).toEqual([{ '@type': 'Organization', name: 'Example News' }]);
      expect(creativeWork.publisher).toEqual([{ '@type': 'Organization', name: 'Example News' }]);

      // The decoded content is the signed image; the partner verifies it over mTLS too.
      const signedPath = path.join(scratch, body.file_name);
      await writeFile(signedPath, Buffer.from(body.encoded_signed_content, 'base64'));
      const verified = await curl(['-X', 'POST', `${mesh.url}/v1/verify`, ...mtls(), '-H', 'Content-Type: application/octet-stream', '--data-binary', `@${signedPath}`]);
      expect(verified.json()).toMatchObject({ validation_state: 'Trusted', signer: 'Example News Signer' });
    });

    it('signs with ECDSA SHA-256 on /c2pa/v1/sign as well', async () => {
      const res = await curl(['-X', 'POST', `${mesh.url}/c2pa/v1/sign`, ...mtls(), ...digiCertForm(valid), '--form', `image=@${path.join(FIXTURES, 'no_manifest.jpg')}`]);
      expect(res.status).toBe(200);
      expect(res.json()).toMatchObject({ file_name: 'signed-no_manifest.jpg', mime_type: 'image/jpeg', sign_algo: '1.2.840.10045.4.3.2' });
    });

    it('answers invalid parameters with 400 invalid_request naming the parameter', async () => {
      const image = ['--form', `image=@${path.join(FIXTURES, 'sample1.png')}`];
      const cases: Array<[Record<string, string>, RegExp]> = [
        [{ ...valid, hashAlgo: 'MD5' }, /^Invalid parameter hashAlgo\./],
        [{ ...valid, signAlgo: '1.2.840.113549.1.1.5' }, /^Missing \(or invalid type\) string parameter signAlgo\./],
        [{ ...valid, signAlgo: '1.3.101.112' }, /parameter signAlgo\. None of your signing credentials uses ED25519/],
        [{ ...valid, signAlgoParams: '%%%' }, /^Missing \(or invalid type\) string parameter signAlgoParams\./],
        [{ ...valid, schemaField: 'editor' }, /^Invalid parameter schemaField\./],
        [{ ...valid, credentialID: 'crt_nope' }, /^Invalid parameter credentialID\./],
      ];
      for (const [fields, message] of cases) {
        const res = await curl(['-X', 'POST', `${mesh.url}/c2pa/v1/sign`, ...mtls(), ...digiCertForm(fields), ...image]);
        expect(res.status).toBe(400);
        expect(res.json()).toMatchObject({ error: 'invalid_request', error_description: expect.stringMatching(message), request_id: res.headers['x-request-id'] });
      }
      const noImage = await curl(['-X', 'POST', `${mesh.url}/c2pa/v1/sign`, ...mtls(), ...digiCertForm(valid)]);
      expect(noImage.json()).toMatchObject({ error: 'invalid_request', error_description: expect.stringMatching(/^Missing parameter image\./) });
    });

    it('refuses a caller with neither a client certificate nor a key', async () => {
      const res = await curl(['-X', 'POST', `${mesh.url}/c2pa/v1/sign`, ...tls(), ...digiCertForm(valid), '--form', `image=@${path.join(FIXTURES, 'sample1.png')}`]);
      expect(res.status).toBe(401);
      expect(res.json()).toMatchObject({ error: 'unauthorized' });
    });
  });
});
