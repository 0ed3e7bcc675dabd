export { createConsoleHandler, CONSOLE_PATH, type ConsoleHandler, type ConsoleHandlerOptions } from './handler.js';
export { ensureConsoleBuilt, DEFAULT_CONSOLE_DIST, consoleSourceHash, type ConsoleBuild } from './build.js';
