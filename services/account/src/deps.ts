import type { AccountsConfig } from '@c2pa-mesh/config';
import type { Database } from '@c2pa-mesh/storage';
import type { Logger } from 'pino';
import type { Mailer } from './mailer.js';
import type { PasswordChecker } from './passwords.js';
import type { AccessTokenKeys } from './token-keys.js';

export interface AccountDeps {
  db: Database;
  logger: Logger;
  config: AccountsConfig;
  keys: AccessTokenKeys;
  mailer: Mailer;
  passwords: PasswordChecker;
  /** Seals what is kept secret at rest (identity providers' client secrets, sign-ins under way). */
  keyEncryptionKey: Uint8Array;
}
