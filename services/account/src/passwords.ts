import { randomBytes } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';
import { invalidArgument } from '@c2pa-mesh/errors';

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 256;

/** Argon2id with the OWASP-recommended minimum (19 MiB, 2 passes, 1 lane). */
const ARGON2_OPTIONS = { algorithm: 2 /* Algorithm.Argon2id: a const enum, not importable here */, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/** Refuses passwords a person should not use; the message says what to change, never echoes it. */
export function checkNewPassword(password: string, field = 'password'): void {
  if (password.length < PASSWORD_MIN_LENGTH) throw invalidArgument(`${field} must be at least ${PASSWORD_MIN_LENGTH} characters long`);
  if (password.length > PASSWORD_MAX_LENGTH) throw invalidArgument(`${field} must be at most ${PASSWORD_MAX_LENGTH} characters long`);
  if (password.trim().length === 0) throw invalidArgument(`${field} must not be only spaces`);
}

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2_OPTIONS);
}

export interface PasswordChecker {
  /**
   * Checks `password` against `passwordHash`, or, for an unknown account (undefined), against a
   * hash of a random password made at start: the same work, so the answer takes as long.
   */
  check(passwordHash: string | undefined, password: string): Promise<boolean>;
}

export function createPasswordChecker(): PasswordChecker {
  const dummy = hashPassword(randomBytes(24).toString('base64url'));
  return {
    async check(passwordHash, password) {
      const target = passwordHash ?? (await dummy);
      // Bounded before the work: no megabyte "password" gets hashed.
      const candidate = password.length > PASSWORD_MAX_LENGTH ? password.slice(0, PASSWORD_MAX_LENGTH + 1) : password;
      let ok: boolean;
      try {
        ok = await verify(target, candidate);
      } catch {
        ok = false;
      }
      return ok && passwordHash !== undefined;
    },
  };
}
