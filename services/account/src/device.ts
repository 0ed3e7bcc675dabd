import { createHash, randomBytes, randomInt } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import type { HandlerContext } from '@connectrpc/connect';
import { failedPrecondition, invalidArgument, notFound, unauthenticated } from '@c2pa-mesh/errors';
import { accountV1 } from '@c2pa-mesh/proto';
import {
  approveDeviceLogin,
  findDeviceLoginByDeviceCode,
  findUserById,
  insertAccountSession,
  insertDeviceLogin,
  newId,
  recordDeviceLoginPoll,
  useDeviceLogin,
} from '@c2pa-mesh/storage';
import { countAttempt } from './attempt-limits.js';
import type { AccountDeps } from './deps.js';
import { addressBucket, clientOf, currentUser, issueTokens, toUser } from './handlers.js';
import { recordSignedIn } from './sign-in-audit.js';

/** Device codes start with this: told apart from refresh tokens and API keys. */
export const DEVICE_CODE_PREFIX = 'c2md_';
const DEVICE_LOGIN_TTL_SECONDS = 10 * 60;
/** RFC 8628 §5.5: no vowels (no words), no look-alike digits; 20^8 codes. */
const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
const USER_CODE_LENGTH = 8;
/** RFC 8628 §3.5: a device polling too fast waits 5 s longer from then on. */
const SLOW_DOWN_STEP_SECONDS = 5;
const CLIENT_NAME_MAX_LENGTH = 100;

const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest('hex');

function newUserCode(): string {
  let code = '';
  for (let i = 0; i < USER_CODE_LENGTH; i++) code += USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)];
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/** The user code as typed: case, spaces and dashes do not matter. */
function normalizeUserCode(raw: string): string {
  const code = raw.toUpperCase().replace(/[\s-]/g, '');
  if (code === '') throw invalidArgument('user_code is required: the code the device shows (e.g. WDJB-MJHT)');
  if (code.length !== USER_CODE_LENGTH || [...code].some((c) => !USER_CODE_ALPHABET.includes(c))) {
    throw invalidArgument(`user_code must be the ${USER_CODE_LENGTH} letters the device shows (e.g. WDJB-MJHT)`);
  }
  return code;
}

/** Where the person approves: the configured page, or `/device` on the address the device called. */
function verificationUri(deps: AccountDeps, ctx: HandlerContext): string {
  if (deps.config.deviceVerificationUrl) return deps.config.deviceVerificationUrl;
  // The request's URL carries the authority over HTTP/2 as well (where there is no Host header).
  let host = '';
  try {
    host = new URL(ctx.url).host;
  } catch {
    host = ctx.requestHeader.get('host') ?? '';
  }
  return /^[A-Za-z0-9.:[\]-]+$/.test(host) ? `https://${host}/device` : '/device';
}

export async function startDeviceLogin(deps: AccountDeps, req: accountV1.StartDeviceLoginRequest, ctx: HandlerContext) {
  const clientName = req.clientName.trim();
  if (clientName.length > CLIENT_NAME_MAX_LENGTH) throw invalidArgument(`client_name must be at most ${CLIENT_NAME_MAX_LENGTH} characters long`);
  if (/[\u0000-\u001f\u007f]/.test(clientName)) throw invalidArgument('client_name must not contain control characters');
  await countAttempt(deps.db, [addressBucket(deps, ctx, 'device')]);
  const deviceCode = `${DEVICE_CODE_PREFIX}${randomBytes(32).toString('base64url')}`;
  const userCode = newUserCode();
  const interval = deps.config.devicePollIntervalSeconds;
  await insertDeviceLogin(deps.db, {
    id: newId('dev'),
    deviceCodeHash: sha256(deviceCode),
    userCodeHash: sha256(normalizeUserCode(userCode)),
    clientName: clientName || 'a device',
    clientIp: clientOf(ctx).clientIp,
    intervalSeconds: interval,
    expiresAt: new Date(Date.now() + DEVICE_LOGIN_TTL_SECONDS * 1000),
  });
  const uri = verificationUri(deps, ctx);
  return create(accountV1.StartDeviceLoginResponseSchema, {
    deviceCode,
    userCode,
    verificationUri: uri,
    verificationUriComplete: `${uri}?user_code=${encodeURIComponent(userCode)}`,
    interval: BigInt(interval),
    expiresIn: BigInt(DEVICE_LOGIN_TTL_SECONDS),
  });
}

export async function approveDevice(deps: AccountDeps, req: accountV1.ApproveDeviceLoginRequest, ctx: HandlerContext) {
  const { user } = await currentUser(deps, ctx);
  const code = normalizeUserCode(req.userCode);
  // Guessing codes is limited like guessing mailed codes.
  await countAttempt(deps.db, [addressBucket(deps, ctx, 'code')]);
  const approved = await approveDeviceLogin(deps.db, sha256(code), user.id);
  if (!approved) throw notFound(`no device is waiting with the code ${req.userCode.trim().toUpperCase()}: check it, or start the login on the device again (codes work for ${DEVICE_LOGIN_TTL_SECONDS / 60} minutes)`);
  deps.logger.info({ userId: user.id, deviceLoginId: approved.id, clientIp: approved.client_ip }, 'device login approved');
  return create(accountV1.ApproveDeviceLoginResponseSchema, { clientName: approved.client_name });
}

export async function pollDeviceLogin(deps: AccountDeps, req: accountV1.PollDeviceLoginRequest, ctx: HandlerContext) {
  if (req.deviceCode === '') throw invalidArgument('device_code is required');
  if (!req.deviceCode.startsWith(DEVICE_CODE_PREFIX)) throw invalidArgument(`device_code must be the one StartDeviceLogin returned (it starts with "${DEVICE_CODE_PREFIX}")`);
  const login = await findDeviceLoginByDeviceCode(deps.db, sha256(req.deviceCode));
  if (!login) throw failedPrecondition('unknown device code: start the login again');
  if (login.status === 'USED') throw failedPrecondition('this device code was already used for tokens: start the login again');
  if (login.expires_at.getTime() <= Date.now()) throw failedPrecondition('expired_token: the codes expired before the login was approved; start it again');
  const now = Date.now();
  // A quarter of a second of slack: timers and networks are not exact.
  if (login.status === 'PENDING' && login.last_polled_at && now - login.last_polled_at.getTime() + 250 < login.interval_seconds * 1000) {
    const interval = login.interval_seconds + SLOW_DOWN_STEP_SECONDS;
    await recordDeviceLoginPoll(deps.db, login.id, interval);
    return create(accountV1.PollDeviceLoginResponseSchema, { status: 'slow_down', interval: BigInt(interval) });
  }
  await recordDeviceLoginPoll(deps.db, login.id);
  if (login.status === 'PENDING') return create(accountV1.PollDeviceLoginResponseSchema, { status: 'authorization_pending', interval: BigInt(login.interval_seconds) });
  // Approved: the tokens are handed out once.
  if (!(await useDeviceLogin(deps.db, login.id))) throw failedPrecondition('this device code was already used for tokens: start the login again');
  const user = login.user_id ? await findUserById(deps.db, login.user_id) : undefined;
  if (!user || user.status !== 'ACTIVE') throw unauthenticated('the account that approved this login is disabled');
  const { userAgent } = clientOf(ctx);
  const session = await insertAccountSession(deps.db, {
    id: newId('ses'),
    userId: user.id,
    clientIp: login.client_ip,
    userAgent,
    expiresAt: new Date(now + deps.config.refreshTokenTtlSeconds * 1000),
  });
  recordSignedIn(ctx, user.id, session.id);
  return create(accountV1.PollDeviceLoginResponseSchema, {
    status: 'approved',
    tokens: await issueTokens(deps, user, session, ''),
    user: toUser(user),
    interval: BigInt(login.interval_seconds),
  });
}
