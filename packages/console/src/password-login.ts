import { Code, ConnectError, type Client } from '@connectrpc/connect';
import type { AccountService } from '@c2pa-mesh/proto';
import type { PeerContext } from '@c2pa-mesh/server';
import { SignInRefused, type ConsoleHandlerOptions, type PasswordLogin } from './handler.js';

/** How AccountService/Login's refusals reach the sign-in form. */
const STATUS: Partial<Record<Code, number>> = {
  [Code.InvalidArgument]: 400,
  [Code.Unauthenticated]: 401,
  [Code.FailedPrecondition]: 403,
  [Code.PermissionDenied]: 403,
  [Code.NotFound]: 404,
  [Code.ResourceExhausted]: 429,
  [Code.Unavailable]: 503,
};

/**
 * Password sign-in through AccountService/Login, called as the browser's request (its address,
 * its user agent) through the same interceptors, attempt limits and audit as any caller. The
 * tokens Login returns stay here: the console session stands on the account session instead.
 */
export function createPasswordLogin(accountFor: (peer: PeerContext) => Client<typeof AccountService>): NonNullable<ConsoleHandlerOptions['passwordLogin']> {
  return async ({ email, password, clientIp, userAgent }): Promise<PasswordLogin> => {
    try {
      const { tokens, user } = await accountFor({ clientIp, credentials: {} }).login({ email, password }, { headers: { 'user-agent': userAgent.slice(0, 200) } });
      if (!tokens || !user) throw new Error('AccountService/Login answered without tokens');
      return { userId: user.userId, email: user.email, sessionId: tokens.sessionId, sessionExpiresIn: Number(tokens.refreshExpiresIn) };
    } catch (err) {
      if (!(err instanceof ConnectError)) throw err;
      const status = STATUS[err.code];
      if (status === undefined) throw err;
      throw new SignInRefused(status, err.rawMessage);
    }
  };
}
