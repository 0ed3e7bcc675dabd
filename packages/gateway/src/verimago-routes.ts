import type { Exchange } from './exchange.js';
import type { Route, RouteContext } from './gateway.js';
import { VERIMAGO_AUTH } from './verimago-auth.js';
import { admitVerimagoCall, VERIMAGO_PREFIX, type VerimagoLimit } from './verimago-http.js';
import { createVerimagoKey, listVerimagoKeys, revokeVerimagoKey } from './verimago-keys.js';
import { getVerimagoCert, listVerimagoCerts, revokeVerimagoCert, verimagoOcsp, verimagoTsa, verimagoTsaStatus } from './verimago-pki.js';
import { verimagoSign, verimagoVerifyByHash, verimagoVerifyUrl } from './verimago.js';

type Handler = (exchange: Exchange, context: RouteContext, rest: string) => Promise<void>;

/** The handler behind Verimago's limit for it, counted before any work. */
function limited(limit: VerimagoLimit, handle: Handler): Handler {
  return async (exchange, context, rest) => {
    await admitVerimagoCall(exchange, context, limit);
    await handle(exchange, context, rest);
  };
}

function route(method: Route['method'], path: string, handle: Handler, extra: Partial<Route> = {}): Route {
  return { method, path: `${VERIMAGO_PREFIX}${path}`, operation: 'other', errorStyle: 'message', handle, ...extra };
}

/**
 * All of Verimago's API under `/verimago/v1/`, errors as `{error}`, with its rate limits. The
 * public lookup by hash keeps its own per-address limit (1000 a minute, in the interceptors).
 * Applications and certificate activation are routed elsewhere.
 */
export const VERIMAGO_ROUTES: Route[] = [
  route('POST', 'auth/register', limited('other', VERIMAGO_AUTH.register)),
  route('POST', 'auth/verify-email', limited('other', VERIMAGO_AUTH.verifyEmail)),
  route('POST', 'auth/login', limited('other', VERIMAGO_AUTH.login)),
  route('POST', 'auth/forgot-password', limited('other', VERIMAGO_AUTH.forgotPassword)),
  route('POST', 'auth/reset-password', limited('other', VERIMAGO_AUTH.resetPassword)),
  route('POST', 'sign', limited('sign', verimagoSign), { operation: 'sign' }),
  route('POST', 'verify/url', limited('verifyUrl', verimagoVerifyUrl), { operation: 'lookup' }),
  route('GET', 'verify/', verimagoVerifyByHash, { operation: 'lookup' }),
  route('GET', 'keys', limited('other', listVerimagoKeys)),
  route('POST', 'keys', limited('other', createVerimagoKey)),
  route('POST', 'keys/', limited('other', revokeVerimagoKey), { accepts: (rest) => /^[^/]+\/revoke$/.test(rest) }),
  route('GET', 'certs', limited('other', listVerimagoCerts)),
  route('GET', 'certs/', limited('other', getVerimagoCert), { accepts: (rest) => !rest.includes('/') }),
  route('PATCH', 'certs/', limited('other', revokeVerimagoCert), { accepts: (rest) => /^[^/]+\/revoke$/.test(rest) }),
  route('GET', 'ocsp/', limited('other', verimagoOcsp), { operation: 'lookup' }),
  route('GET', 'tsa/status', limited('other', verimagoTsaStatus)),
  route('POST', 'tsa', limited('other', verimagoTsa)),
];
