import { describe, expect, it } from 'vitest';
import { classifyEngineError, describeEngineError, engineErrorVariant, validationStatusesInError } from './engine-errors.js';

// Error texts as c2pa-wasm 0.13 (c2pa-rs 0.91) rejects with them, copied from real runs.
const INVALID_MANIFEST =
  'C2pa(InvalidManifest(ValidationResults { active_manifest: Some(StatusCodes { success: [ValidationStatus { code: "claimSignature.validated", url: Some("self#jumbf=/c2pa/urn:c2pa:1/c2pa.signature"), explanation: Some("claim signature valid"), success: None, kind: Success, ingredient_uri: None, trust_list_uri: None }], informational: [], failure: [ValidationStatus { code: "signingCredential.untrusted", url: Some("self#jumbf=/c2pa/urn:c2pa:1/c2pa.signature"), explanation: Some("signing certificate untrusted"), success: None, kind: Failure, ingredient_uri: None, trust_list_uri: None }, ValidationStatus { code: "assertion.action.malformed", url: Some("urn:c2pa:1"), explanation: Some("first action must be created or opened"), success: None, kind: Failure, ingredient_uri: None, trust_list_uri: None }] }), ingredient_deltas: None, spec_version: Some("2.4.0") }))';

const read = { operation: 'read', format: 'image/jpeg' } as const;
const sign = { operation: 'sign', format: 'image/jpeg' } as const;

describe('engine error classification', () => {
  it('no manifest → not_found', () => {
    const error = classifyEngineError('C2pa(JumbfNotFound)', read);
    expect([error.code, error.message]).toEqual(['not_found', 'no C2PA manifest in this asset']);
    expect(error.cause).toBe('C2pa(JumbfNotFound)');
  });

  it('verify-after-sign refusal → invalid_argument naming what failed, not the untrusted credential', () => {
    const error = classifyEngineError(INVALID_MANIFEST, sign);
    expect(error.code).toBe('invalid_argument');
    expect(error.message).toBe('the engine refused to sign this manifest: first action must be created or opened (assertion.action.malformed)');
    expect(error.details.statuses).toEqual([{ code: 'assertion.action.malformed', url: 'urn:c2pa:1', explanation: 'first action must be created or opened' }]);
    expect(validationStatusesInError(INVALID_MANIFEST).map((s) => s.kind)).toEqual(['Success', 'Failure', 'Failure']);
  });

  it('malformed media → invalid_argument with the engine reason', () => {
    expect(classifyEngineError('C2pa(InvalidAsset("Could not parse input JPEG"))', read).message).toBe(
      'cannot read this JPEG asset: Could not parse input JPEG',
    );
    expect(classifyEngineError('C2pa(IoError(Error { kind: UnexpectedEof, message: "failed to fill whole buffer" }))', { operation: 'read', format: 'video/mp4' }).message).toBe(
      'cannot read this MP4 asset: the data ends unexpectedly (is the file truncated?)',
    );
    expect(classifyEngineError('C2pa(UnsupportedType)', { operation: 'read', format: 'audio/flac' }).message).toBe('the bytes could not be parsed as FLAC');
  });

  it('damage inside the manifest → invalid_argument saying so', () => {
    const error = classifyEngineError('C2pa(JumbfParseError(UnexpectedEof))', read);
    expect([error.code, error.message]).toEqual(['invalid_argument', "the asset's C2PA manifest is damaged or malformed: the data ends unexpectedly (is the file truncated?)"]);
    expect(classifyEngineError('C2pa(CoseInvalidCert)', read).message).toBe("the asset's C2PA manifest is damaged or malformed: cose invalid cert");
  });

  it('manifest definition JSON → invalid_argument with the position', () => {
    const error = classifyEngineError('C2pa(JsonError(Error("invalid type: integer `5`, expected a string", line: 1, column: 11)))', sign);
    expect(error.message).toBe('the manifest definition is not valid: invalid type: integer `5`, expected a string at line 1, column 11');
  });

  it('remote manifest → failed_precondition naming the URL', () => {
    const error = classifyEngineError('C2pa(RemoteManifestUrl("https://example.com/m.c2pa"))', read);
    expect(error.code).toBe('failed_precondition');
    expect(error.message).toBe("the asset's manifest is not embedded but refers to https://example.com/m.c2pa; remote manifests are not fetched");
  });

  it('bad trust settings → invalid_argument, without echoing the configuration', () => {
    const error = classifyEngineError('C2pa(BadParam("could not parse configuration: TOML parse error at line 1, column 1\\n  |\\n1 | {\\"trust\\":{\\"trust_anchors\\":\\"garbage\\"}}"))', read);
    expect(error.message).toBe('the trust anchors or allowed certificates could not be loaded; give them as PEM certificates');
  });

  it('resource limits and unsupported operations keep their own codes', () => {
    expect(classifyEngineError('C2pa(InsufficientMemory)', read).code).toBe('resource_exhausted');
    expect(classifyEngineError('C2pa(NotImplemented("PDF write"))', { operation: 'sign', format: 'application/pdf' }).code).toBe('failed_precondition');
  });

  it('anything unrecognised from the engine is still the asset’s problem, in words', () => {
    const error = classifyEngineError('C2pa(SomethingNew { detail: 3 })', read);
    expect(error.code).toBe('invalid_argument');
    expect(error.message).toBe('cannot read this JPEG asset: something new: detail 3');
    expect(engineErrorVariant('plain text')).toBeUndefined();
    expect(describeEngineError('plain text')).toBe('plain text');
  });
});
