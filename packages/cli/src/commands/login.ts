import os from 'node:os';
import { ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { AccountService } from '@c2pa-mesh/proto';
import { meshTarget, type ConnectionOptions } from '../connection.js';
import { credentialsPath, saveLogin, storedLogin } from '../credentials.js';
import { CliError, write, type CliIo } from '../io.js';

export interface LoginOptions extends ConnectionOptions {
  /** With a password: a password login. Without one: a device login, approved in a browser. */
  email?: string;
  device?: boolean;
  passwordStdin?: boolean;
  project?: string;
}

async function readPassword(io: CliIo): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin ?? process.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

function accountClient(options: ConnectionOptions, io: CliIo) {
  const { url, ca } = meshTarget(options, io);
  return { url, account: createClient(AccountService, createConnectTransport({ baseUrl: url, httpVersion: '2', useBinaryFormat: true, nodeOptions: { ca } })) };
}

/** `c2pa-mesh login`: a person's password for tokens, kept in the user's config dir (0600). */
export async function login(options: LoginOptions, io: CliIo): Promise<number> {
  const password = options.device ? undefined : options.passwordStdin ? await readPassword(io) : io.env.C2PA_MESH_PASSWORD;
  if (options.passwordStdin && !password) throw new CliError('--password-stdin read an empty password', 2);
  const { url, account } = accountClient(options, io);
  if (!password) return deviceLogin(options, io, url, account);
  if (!options.email) throw new CliError('--email is required with a password (without one, login is approved in a browser)', 2);
  const { tokens, user } = await account.login({ email: options.email, password, projectId: options.project ?? '' });
  saveLogin(io, url, {
    url,
    email: user!.email,
    projectId: tokens!.projectId,
    accessToken: tokens!.accessToken,
    accessTokenExpiresAt: new Date(Date.now() + Number(tokens!.expiresIn) * 1000).toISOString(),
    refreshToken: tokens!.refreshToken,
  });
  const on = tokens!.projectId ? ` on project ${tokens!.projectId} (${tokens!.scopes.join(', ')})` : '';
  write(io.stdout, `logged in to ${url} as ${user!.email}${on}; tokens kept in ${credentialsPath(io)}`);
  return 0;
}

/** `c2pa-mesh logout`: ends the session at the mesh and forgets the tokens. */
export async function logout(options: ConnectionOptions, io: CliIo): Promise<number> {
  const { url, account } = accountClient(options, io);
  const stored = storedLogin(io, url);
  if (!stored) {
    write(io.stdout, `not logged in to ${url}`);
    return 0;
  }
  try {
    await account.logout({ refreshToken: stored.refreshToken });
  } finally {
    saveLogin(io, url, undefined);
  }
  write(io.stdout, `logged out of ${url}`);
  return 0;
}

/** A fresh access token for a stored login: refreshed (and saved) when it expires within a minute. */
export async function currentAccessToken(options: ConnectionOptions, io: CliIo, url: string): Promise<string> {
  const stored = storedLogin(io, url);
  if (!stored) throw new CliError(`not logged in to ${url}: run c2pa-mesh login`);
  if (Date.parse(stored.accessTokenExpiresAt) - Date.now() > 60_000) return stored.accessToken;
  const { account } = accountClient(options, io);
  let tokens;
  try {
    ({ tokens } = await account.refresh({ refreshToken: stored.refreshToken, projectId: stored.projectId }));
  } catch (error) {
    if (ConnectError.from(error).code === 16 /* unauthenticated */) {
      saveLogin(io, url, undefined);
      throw new CliError(`your login to ${url} has ended (${ConnectError.from(error).rawMessage}): run c2pa-mesh login again`);
    }
    throw error;
  }
  saveLogin(io, url, {
    ...stored,
    accessToken: tokens!.accessToken,
    accessTokenExpiresAt: new Date(Date.now() + Number(tokens!.expiresIn) * 1000).toISOString(),
    refreshToken: tokens!.refreshToken,
  });
  return tokens!.accessToken;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `c2pa-mesh login` without a password: a device login (RFC 8628's shape). Prints where to
 * approve and the code to type, then polls as often as the mesh says until the person approves
 * it in a browser where they are signed in.
 */
async function deviceLogin(options: LoginOptions, io: CliIo, url: string, account: ReturnType<typeof accountClient>['account']): Promise<number> {
  if (options.project) throw new CliError('--project needs a password login; after a device login, the project is chosen per command', 2);
  const started = await account.startDeviceLogin({ clientName: `c2pa-mesh CLI on ${os.hostname()}`.slice(0, 100) });
  write(
    io.stderr,
    `To log in, open ${started.verificationUri} in a browser where you are signed in to the mesh, and enter the code:\n\n    ${started.userCode}\n\n(or open ${started.verificationUriComplete})\nWaiting for approval…`,
  );
  const deadline = Date.now() + Number(started.expiresIn) * 1000;
  let interval = Number(started.interval);
  for (;;) {
    if (Date.now() + interval * 1000 > deadline) throw new CliError(`the code ${started.userCode} expired before it was approved: run c2pa-mesh login again`);
    await sleep(interval * 1000);
    const answer = await account.pollDeviceLogin({ deviceCode: started.deviceCode });
    interval = Number(answer.interval) || interval;
    if (answer.status !== 'approved') continue;
    const { tokens, user } = answer;
    saveLogin(io, url, {
      url,
      email: user!.email,
      projectId: '',
      accessToken: tokens!.accessToken,
      accessTokenExpiresAt: new Date(Date.now() + Number(tokens!.expiresIn) * 1000).toISOString(),
      refreshToken: tokens!.refreshToken,
    });
    write(io.stdout, `logged in to ${url} as ${user!.email}; tokens kept in ${credentialsPath(io)}`);
    return 0;
  }
}
