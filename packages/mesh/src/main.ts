import './native-base64.js'; // first: protobuf-es picks up the base64 methods when it loads
import path from 'node:path';
import 'reflect-metadata';
import { ConfigError, loadConfig } from '@c2pa-mesh/config';
import { ensureConsoleBuilt } from '@c2pa-mesh/console';
import { createLogger } from '@c2pa-mesh/server';
import { startMesh } from './mesh.js';
import { startTracing } from './tracing.js';

let config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`c2pa-mesh: configuration error: ${err.message}\n`);
    process.exit(2);
  }
  throw err;
}
const logger = createLogger(config.logLevel);
// Before the mesh starts, so that start-up queries already find the tracer provider.
const tracing = await startTracing(config.tracing, logger);

try {
  // The console is built (when its sources changed) while the mesh starts: `npm start` serves a
  // current console without a separate build step. A failed build leaves the mesh running.
  const consoleBuild = ensureConsoleBuilt(logger).catch((err: unknown) => logger.error({ err }, 'the console could not be built; /console/ is unavailable'));
  const mesh = await startMesh(config, logger);
  await consoleBuild;
  const pki = mesh.pki.dir;
  const files = {
    'mesh-ca': path.join(pki, 'mesh-ca.pem'),
    'admin-cert': path.join(pki, 'admin.pem'),
    'admin-key': path.join(pki, 'admin-key.pem'),
    'c2pa-root': path.join(pki, 'c2pa-root.pem'),
    'c2pa-chain': path.join(pki, 'c2pa-chain.pem'),
  };
  const parts = [`rpc=${mesh.url}`, ...(mesh.pkiUrl ? [`pki=${mesh.pkiUrl}`] : []), `metrics=${mesh.metricsUrl}`, `services=${config.services.join(',')}`, `data=${config.dataDir}`];
  parts.push(...Object.entries(files).map(([name, file]) => `${name}=${file}`));
  process.stdout.write(`mesh ready ${parts.join(' ')}\n`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: no new connections, finishing calls in flight');
    // The spans of the last calls are exported after the calls finished, before the process ends.
    const closed = mesh.close().finally(() => tracing.shutdown());
    closed.then(
      () => {
        logger.info('stopped');
        logger.flush();
        process.exit(0);
      },
      (err) => {
        logger.error({ err }, 'unclean shutdown');
        logger.flush();
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
} catch (err) {
  logger.fatal({ err }, 'mesh failed to start');
  logger.flush();
  process.stderr.write(`c2pa-mesh: failed to start: ${(err as Error).message}\n`);
  process.exitCode = 1;
  setTimeout(() => process.exit(1), 100).unref();
}
