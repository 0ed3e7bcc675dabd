export { createAccountService } from './routes.js';
export type { AccountDeps } from './deps.js';
export { createAccessTokenKeys, type AccessTokenKeys } from './token-keys.js';
export { createMailer, type Mail, type Mailer } from './mailer.js';
export { createPasswordChecker, hashPassword, type PasswordChecker } from './passwords.js';
export { REFRESH_TOKEN_PREFIX, WRONG_CREDENTIALS } from './handlers.js';
export { createOnboardingService, type OnboardingDeps } from './onboarding.js';
