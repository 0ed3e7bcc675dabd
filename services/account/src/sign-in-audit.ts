import type { HandlerContext } from '@connectrpc/connect';
import { callContext } from '@c2pa-mesh/server';

/**
 * Names the account that just signed in on the call's audit event and log line: a sign-in call
 * has no identity of its own when it starts. Only the user id and session id: nothing secret.
 */
export function recordSignedIn(ctx: HandlerContext, userId: string, sessionId: string): void {
  callContext(ctx).identity = { kind: 'USER', id: userId, scopes: new Set(), sessionId };
}
