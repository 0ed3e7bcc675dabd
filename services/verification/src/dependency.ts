import { Code, ConnectError } from '@connectrpc/connect';
import { MeshError } from '@c2pa-mesh/errors';

// Canceled: these calls carry no signal of the caller's, so a cancelled stream is the connection
// to the other service cut under it (a replica gone, its load balancer closing the connection).
const TRANSIENT = [Code.Unavailable, Code.Unimplemented, Code.DeadlineExceeded, Code.ResourceExhausted, Code.Aborted, Code.Canceled];

/**
 * Calls another mesh service. When it is down, overloaded or not deployed yet, the caller hears
 * `unavailable` naming what could not be done (retrying later helps). Codes in `passThrough` come
 * back as the ConnectError they are, for the caller to judge; any other refusal is the mesh's own
 * fault (a misconfigured service identity, a bug) and becomes `internal`, its cause logged only.
 */
export async function callDependency<T>(what: string, call: () => Promise<T>, passThrough: readonly Code[] = []): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const connectError = ConnectError.from(error);
    if (passThrough.includes(connectError.code)) throw connectError;
    if (TRANSIENT.includes(connectError.code)) {
      throw new MeshError('unavailable', `${what} is not possible right now (${connectError.rawMessage}); retry later`, {
        cause: error,
        metadata: { 'retry-after': '1' },
      });
    }
    throw new MeshError('internal', `${what} failed`, { cause: error });
  }
}
