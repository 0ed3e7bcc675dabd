import { isMeshError } from '@c2pa-mesh/errors';
import { create } from '@bufbuild/protobuf';
import { signingV1 } from '@c2pa-mesh/proto';
import { describe, expect, it } from 'vitest';
import { DEFAULT_DIGITAL_SOURCE_TYPE, callerName, chooseSigner, digiCertManifest, readDigiCertParameters } from './digicert.js';

const valid = { hashAlgo: 'SHA256', signAlgo: '1.2.840.10045.4.3.2', signAlgoParams: 'MTIzNDQ=', accountId: '599020de-5ea7-4c0c-ac01-ceb4bb9802b3', schemaField: 'author,publisher' };
const fields = (overrides: Record<string, string | undefined> = {}) =>
  new Map(Object.entries({ ...valid, ...overrides }).filter((entry): entry is [string, string] => entry[1] !== undefined));

function refusal(run: () => unknown): { field: unknown; message: string } {
  try {
    run();
  } catch (error) {
    if (isMeshError(error) && error.code === 'invalid_argument') return { field: error.details.field, message: error.message };
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('DigiCert parameters', () => {
  it('reads the parameters of DigiCert\'s example request', () => {
    const parameters = readDigiCertParameters(fields());
    expect(parameters).toMatchObject({ hashAlgo: 'SHA256', signAlgo: '1.2.840.10045.4.3.2', algorithm: 'ES256', schemaRoles: ['author', 'publisher'], digitalSourceType: DEFAULT_DIGITAL_SOURCE_TYPE });
    expect(readDigiCertParameters(fields({ signAlgo: '1.2.840.113549.1.1.10', hashAlgo: 'SHA-256' })).algorithm).toBe('PS256');
    expect(readDigiCertParameters(fields({ digitalSourceType: 'trainedAlgorithmicMedia' })).digitalSourceType).toBe('http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia');
  });

  it.each([
    ['hashAlgo', { hashAlgo: 'MD5' }, /^Invalid parameter hashAlgo\./],
    ['hashAlgo', { hashAlgo: undefined }, /^Invalid parameter hashAlgo\./],
    ['signAlgo', { signAlgo: '1.2.3.4' }, /^Missing \(or invalid type\) string parameter signAlgo\./],
    ['signAlgo', { signAlgo: undefined }, /^Missing \(or invalid type\) string parameter signAlgo\./],
    ['signAlgoParams', { signAlgoParams: 'not base64!' }, /^Missing \(or invalid type\) string parameter signAlgoParams\./],
    ['schemaField', { schemaField: 'author,editor' }, /^Invalid parameter schemaField\./],
    ['schemaField', { schemaField: undefined }, /^Invalid parameter schemaField\./],
  ])('refuses a bad %s, naming it as DigiCert does', (field, overrides, message) => {
    const failure = refusal(() => readDigiCertParameters(fields(overrides)));
    expect(failure.field).toBe(field);
    expect(failure.message).toMatch(message);
  });
});

describe('choosing the signer for signAlgo', () => {
  const signer = (id: string, algorithm: string, extra: { isDefault?: boolean; status?: string } = {}) => create(signingV1.SignerSchema, { id, certificateId: id, algorithm, status: 'ACTIVE', ...extra });
  const signers = [signer('crt_ec', 'es256', { isDefault: true }), signer('crt_rsa', 'ps256'), signer('crt_old', 'ps256', { status: 'REVOKED' })];

  it('takes the default signer when its algorithm matches, else the first active one that does', () => {
    expect(chooseSigner(signers, readDigiCertParameters(fields())).id).toBe('crt_ec');
    expect(chooseSigner(signers, readDigiCertParameters(fields({ signAlgo: '1.2.840.113549.1.1.10' }))).id).toBe('crt_rsa');
  });

  it('names signAlgo when no credential uses the algorithm, credentialID when it names none', () => {
    expect(refusal(() => chooseSigner(signers, readDigiCertParameters(fields({ signAlgo: '1.3.101.112' }))))).toMatchObject({ field: 'signAlgo', message: expect.stringContaining('available: ES256, PS256') });
    expect(refusal(() => chooseSigner(signers, readDigiCertParameters(fields({ credentialID: 'crt_old', signAlgo: '1.2.840.113549.1.1.10' }))))).toMatchObject({ field: 'credentialID' });
    expect(refusal(() => chooseSigner(signers, readDigiCertParameters(fields({ credentialID: 'crt_rsa' }))))).toMatchObject({ field: 'signAlgo' });
  });
});

describe('the manifest written for DigiCert callers', () => {
  it('names the caller in the roles it asked for', () => {
    const manifest = JSON.parse(digiCertManifest('signed-a.png', 'Example News', readDigiCertParameters(fields({ schemaField: 'creator' }))));
    const creativeWork = manifest.assertions.find((a: { label: string }) => a.label === 'stds.schema-org.CreativeWork').data;
    expect(creativeWork.creator).toEqual([{ '@type': 'Organization', name: 'Example News' }]);
    expect(creativeWork.author).toBeUndefined();
    expect(manifest.assertions[0].data.actions[0]).toMatchObject({ action: 'c2pa.created', digitalSourceType: DEFAULT_DIGITAL_SOURCE_TYPE });
  });

  it('takes the organization of the client certificate, else its common name', () => {
    expect(callerName('CN=newsroom-cms, O=Example News')).toBe('Example News');
    expect(callerName('CN=newsroom-cms')).toBe('newsroom-cms');
    expect(callerName(undefined)).toBeUndefined();
  });
});
