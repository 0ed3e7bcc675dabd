import { Code, ConnectError } from '@connectrpc/connect';
import { invalidArgument, resourceExhausted } from '@c2pa-mesh/errors';
import { describe, expect, it } from 'vitest';
import { httpFailureFor } from './http-errors.js';

const connect = (code: Code, message = 'service says no', metadata?: Record<string, string>) => new ConnectError(message, code, metadata);

describe('httpFailureFor: the one mapping from failed calls to HTTP statuses', () => {
  it.each([
    [Code.InvalidArgument, 'sign', 400],
    [Code.FailedPrecondition, 'sign', 400],
    [Code.NotFound, 'verify', 400],
    [Code.NotFound, 'sign', 404],
    [Code.Unauthenticated, 'sign', 401],
    [Code.PermissionDenied, 'verify', 403],
    [Code.ResourceExhausted, 'sign', 413],
    [Code.Unimplemented, 'sign', 501],
  ] as const)('%s on %s → %d with the service message', (code, operation, status) => {
    const failure = httpFailureFor(connect(code), operation, 'req_1');
    expect(failure.status).toBe(status);
    expect(failure.message).toBe('service says no');
    expect(failure.unexpected).toBe(false);
  });

  it('answers a rate limit with 429 and its Retry-After, a size limit with 413', () => {
    expect(httpFailureFor(connect(Code.ResourceExhausted, 'slow down', { 'retry-after': '12' }), 'sign', 'req_1')).toMatchObject({ status: 429, retryAfter: '12' });
    expect(httpFailureFor(resourceExhausted('too big'), 'sign', 'req_1')).toMatchObject({ status: 413, retryAfter: undefined });
    expect(httpFailureFor(resourceExhausted('slow down', { metadata: { 'retry-after': '3' } }), 'verify', 'req_1')).toMatchObject({ status: 429, retryAfter: '3' });
  });

  it('answers an unavailable backend with 502 and hides where it lives', () => {
    const failure = httpFailureFor(connect(Code.Unavailable, 'connect ECONNREFUSED 10.0.0.5:8443'), 'sign', 'req_abc');
    expect(failure).toMatchObject({ status: 502, code: 'unavailable', unexpected: true });
    expect(failure.message).not.toContain('10.0.0.5');
    expect(failure.message).toContain('req_abc');
  });

  it('answers anything else with 500 and a message naming only the request id', () => {
    for (const error of [new TypeError('secret detail'), connect(Code.Internal, 'secret detail'), connect(Code.Unknown, 'secret detail')]) {
      const failure = httpFailureFor(error, 'sign', 'req_xyz');
      expect(failure).toMatchObject({ status: 500, code: 'internal', unexpected: true });
      expect(failure.message).toBe('internal error (request id req_xyz)');
    }
  });

  it('keeps the field a gateway refusal names', () => {
    expect(httpFailureFor(invalidArgument('bad', { details: { field: 'manifest' } }), 'sign', 'r')).toMatchObject({ status: 400, field: 'manifest', code: 'invalid_argument' });
  });
});
