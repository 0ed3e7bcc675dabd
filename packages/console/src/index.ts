export { createConsoleHandler, CONSOLE_PATH, SignInRefused, type ConsoleHandler, type ConsoleHandlerOptions, type PasswordLogin } from './handler.js';
export { createPasswordLogin } from './password-login.js';
export { ensureConsoleBuilt, DEFAULT_CONSOLE_DIST, consoleSourceHash, type ConsoleBuild } from './build.js';
