import { createContextKey, type HandlerContext } from '@connectrpc/connect';
import type { CallerCredentials, Identity } from '@c2pa-mesh/auth';
import { unauthenticated } from '@c2pa-mesh/errors';
import type { Logger } from 'pino';

/** What the transport knows about the caller before any credential is checked. */
export interface PeerContext {
  clientIp: string;
  credentials: CallerCredentials;
  /** performance.now() when the request's headers arrived: before its body was read. */
  receivedAt?: number;
  /** Request id chosen at the HTTP layer (also sent as `x-request-id`). */
  requestId?: string;
  /**
   * Set only by the in-process client: the calling mesh service's identity, established by
   * construction rather than by a certificate. Never derived from anything on the wire.
   */
  presetIdentity?: Identity;
  /**
   * A hop between two services of this process (set only by their in-process clients). It is
   * authorized like any call but not audited: the outer call that caused it has its own event,
   * and the same hop between processes is audited by the receiving process.
   */
  internalCall?: boolean;
  /**
   * Set only by the TLS listener: the request message was decoded from the wire for this call
   * alone (Connect reads a unary body into a buffer of its own, or decodes base64 into new
   * arrays), so the memory behind its `bytes` fields is referenced by nothing else. A handler may
   * move it to another thread instead of copying it, and must then read nothing of it afterwards.
   * In-process callers share their own message with the service: never set for them.
   */
  decodedForThisCall?: boolean;
}

/**
 * Per-call facts that handlers fill in and the audit interceptor records (format, size, tenant).
 * Mutable on purpose: the handler learns them while it works.
 */
export interface CallContext {
  requestId: string;
  startedAt: number;
  identity?: Identity;
  projectId?: string;
  format?: string;
  sizeBytes?: number;
  logger: Logger;
  /** Set by the error mapping when the call failed in a way nobody expected: logged as an error. */
  unexpectedCause?: unknown;
}

export const peerKey = createContextKey<PeerContext | undefined>(undefined, { description: 'mesh peer' });
export const callKey = createContextKey<CallContext | undefined>(undefined, { description: 'mesh call' });

export function callContext(ctx: HandlerContext): CallContext {
  const call = ctx.values.get(callKey);
  if (!call) throw new Error('mesh interceptors are not installed on this router');
  return call;
}

/**
 * Whether `bytes`, a field of this call's request message, may move to another thread: it was
 * decoded from the wire for this call alone (PeerContext.decodedForThisCall) into a buffer that
 * is not shared memory.
 */
export function mayMoveRequestBytes(ctx: HandlerContext, bytes: Uint8Array): boolean {
  return ctx.values.get(peerKey)?.decodedForThisCall === true && bytes.buffer instanceof ArrayBuffer;
}

/** The authenticated caller; the auth interceptor has already refused calls without one. */
export function callerIdentity(ctx: HandlerContext): Identity {
  const identity = callContext(ctx).identity;
  if (!identity) throw unauthenticated('this call needs a client certificate or an API key');
  return identity;
}
