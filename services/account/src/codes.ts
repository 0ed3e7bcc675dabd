import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import { failedPrecondition, invalidArgument } from '@c2pa-mesh/errors';
import { countAccountCodeAttempt, findLiveAccountCode, insertAccountCode, newId, useAccountCode, type Database } from '@c2pa-mesh/storage';

export type CodePurpose = 'VERIFY_EMAIL' | 'RESET_PASSWORD';

/** How long a mailed code works, and how many wrong guesses one takes before it stops working. */
export const CODE_TTL_MS = 30 * 60 * 1000;
export const CODE_ATTEMPTS = 5;

function codeHash(purpose: CodePurpose, userId: string, code: string): string {
  return createHash('sha256').update(`${purpose}:${userId}:${code}`).digest('hex');
}

/** A new six-digit code for `purpose`, replacing earlier ones; the code itself is only mailed. */
export async function newCode(db: Database, userId: string, purpose: CodePurpose): Promise<string> {
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  await insertAccountCode(db, { id: newId('code'), userId, purpose, codeHash: codeHash(purpose, userId, code), expiresAt: new Date(Date.now() + CODE_TTL_MS) });
  return code;
}

export const WRONG_CODE = 'the code is wrong or has expired; ask for a new one';

/**
 * Uses the live code of `purpose` if `code` is it. Wrong guesses count; after CODE_ATTEMPTS the
 * code stops working. `userId` undefined (unknown address) fails the same way.
 */
export async function consumeCode(db: Database, userId: string | undefined, purpose: CodePurpose, code: string): Promise<void> {
  const trimmed = code.trim();
  if (trimmed === '') throw invalidArgument('code is required: the six digits mailed to you');
  if (!/^\d{6}$/.test(trimmed)) throw invalidArgument('code must be the six digits mailed to you');
  const live = userId === undefined ? undefined : await findLiveAccountCode(db, userId, purpose);
  if (!live || live.attempts >= CODE_ATTEMPTS) throw failedPrecondition(WRONG_CODE);
  const expected = Buffer.from(live.code_hash, 'hex');
  const given = Buffer.from(codeHash(purpose, userId!, trimmed), 'hex');
  if (!timingSafeEqual(expected, given)) {
    const attempts = await countAccountCodeAttempt(db, live.id);
    if (attempts >= CODE_ATTEMPTS) await useAccountCode(db, live.id);
    throw failedPrecondition(WRONG_CODE);
  }
  if (!(await useAccountCode(db, live.id))) throw failedPrecondition(WRONG_CODE);
}
