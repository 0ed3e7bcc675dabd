import { toJson } from '@bufbuild/protobuf';
import { StructSchema } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError } from '@connectrpc/connect';
import { MeshError } from '@c2pa-mesh/errors';
import { describe, expect, it } from 'vitest';
import { callerAbort, toConnectError } from './error-mapping.js';

describe('toConnectError', () => {
  it('gives MeshError.details to the caller as a google.protobuf.Struct error detail', () => {
    const { connectError, expected } = toConnectError(new MeshError('failed_precondition', 'signer s1 was revoked', { details: { signerId: 's1', status: 'REVOKED' } }), 'req_1');
    expect(expected).toBe(true);
    expect(connectError.code).toBe(Code.FailedPrecondition);
    expect(connectError.findDetails(StructSchema).map((d) => toJson(StructSchema, d))).toEqual([{ signerId: 's1', status: 'REVOKED' }]);
    expect(connectError.metadata.get('x-request-id')).toBe('req_1');
  });

  it('gives no details with an internal error, and none when there are none', () => {
    expect(toConnectError(new MeshError('internal', 'boom', { details: { secret: 'x' } }), 'req_2').connectError.details).toEqual([]);
    expect(toConnectError(new MeshError('not_found', 'no project p'), 'req_3').connectError.details).toEqual([]);
  });
});

const aborted = (reason?: unknown) => {
  const controller = new AbortController();
  controller.abort(reason);
  return controller.signal;
};

describe('callerAbort', () => {
  it('says nothing while the caller is still there', () => {
    expect(callerAbort(new AbortController().signal, new Headers(), 10)).toBeUndefined();
  });

  it('names a passed deadline deadline_exceeded, whoever noticed it first', () => {
    expect(callerAbort(aborted(new ConnectError('the operation timed out', Code.DeadlineExceeded)), new Headers(), 5)?.code).toBe(Code.DeadlineExceeded);
    // The client's own timer reset the stream (CANCEL) as the declared 300 ms ran out.
    const reset = aborted(new ConnectError('http/2 stream closed with error code CANCEL (0x8)', Code.Canceled));
    expect(callerAbort(reset, new Headers({ 'grpc-timeout': '300m' }), 230)?.code).toBe(Code.DeadlineExceeded);
    expect(callerAbort(reset, new Headers({ 'connect-timeout-ms': '1000' }), 920)?.code).toBe(Code.DeadlineExceeded);
  });

  it('names any other early end canceled', () => {
    const reset = aborted(new ConnectError('http/2 stream closed with error code CANCEL (0x8)', Code.Canceled));
    expect(callerAbort(reset, new Headers({ 'grpc-timeout': '10S' }), 150)?.code).toBe(Code.Canceled);
    expect(callerAbort(aborted(), new Headers(), 150)?.code).toBe(Code.Canceled);
  });
});
