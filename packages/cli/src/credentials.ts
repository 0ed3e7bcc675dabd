import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CliError, type CliIo } from './io.js';

/** What `c2pa-mesh login` keeps: a person's tokens for one mesh. Secrets: the file is 0600. */
export interface StoredLogin {
  url: string;
  email: string;
  projectId: string;
  accessToken: string;
  /** ISO time the access token expires. */
  accessTokenExpiresAt: string;
  refreshToken: string;
}

/** `$XDG_CONFIG_HOME/c2pa-mesh/credentials.json`, else `~/.config/c2pa-mesh/credentials.json`. */
export function credentialsPath(io: CliIo): string {
  const base = io.env.XDG_CONFIG_HOME || path.join(io.env.HOME || os.homedir(), '.config');
  return path.join(base, 'c2pa-mesh', 'credentials.json');
}

function readAll(io: CliIo): Record<string, StoredLogin> {
  let text: string;
  try {
    text = readFileSync(credentialsPath(io), 'utf8');
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CliError(`cannot read ${credentialsPath(io)} (${(cause as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    const parsed = JSON.parse(text) as { logins?: Record<string, StoredLogin> };
    return parsed.logins ?? {};
  } catch {
    throw new CliError(`${credentialsPath(io)} is not valid JSON: remove it and log in again`);
  }
}

/** The stored login for a mesh URL, if any. */
export function storedLogin(io: CliIo, url: string): StoredLogin | undefined {
  return readAll(io)[url];
}

/** Writes (or, with undefined, removes) the login for `url`; the file and its folder are private. */
export function saveLogin(io: CliIo, url: string, login: StoredLogin | undefined): void {
  const file = credentialsPath(io);
  const logins = readAll(io);
  if (login) logins[url] = login;
  else delete logins[url];
  if (Object.keys(logins).length === 0) {
    rmSync(file, { force: true });
    return;
  }
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify({ logins }, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, file);
}
