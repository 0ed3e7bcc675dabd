import { Code, ConnectError } from '@connectrpc/connect';
import { describe, expect, it } from 'vitest';
import { callerAbort } from './error-mapping.js';

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
