// `npm run build:console`: builds the console now if its build is missing or stale (the mesh
// does the same on start); the Docker image runs it at build time.
import { pino } from 'pino';
import { ensureConsoleBuilt } from './build.js';

const result = await ensureConsoleBuilt(pino({ level: 'info' }));
process.stdout.write(`console ${result.outcome} in ${result.durationMs} ms\n`);
