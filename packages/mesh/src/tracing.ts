import type { TracingConfig } from '@c2pa-mesh/config';
import type { Logger } from 'pino';

export interface Tracing {
  /** Exports the spans still buffered and stops the SDK; resolves even if the collector is down. */
  shutdown(): Promise<void>;
}

const OFF: Tracing = { shutdown: async () => undefined };

/** Longest wait for the last spans on shutdown, so that an unreachable collector cannot hold it. */
const SHUTDOWN_TIMEOUT_MS = 5000;

/**
 * Starts the OpenTelemetry SDK when an OTLP endpoint is configured; otherwise loads nothing, and
 * the spans the mesh opens are the API's no-ops. Traces only: the mesh's metrics are Prometheus,
 * and its logs are JSON lines. Exporter protocol (http/protobuf by default), headers, sampler and
 * resource attributes come from the standard OTEL_* variables, read by the SDK.
 */
export async function startTracing(config: TracingConfig, logger: Logger): Promise<Tracing> {
  if (!config.enabled) return OFF;
  const { NodeSDK } = await import('@opentelemetry/sdk-node');
  const sdk = new NodeSDK({
    serviceName: config.serviceName,
    instrumentations: [],
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  logger.info({ endpoint: config.endpoint, serviceName: config.serviceName }, 'exporting traces by OTLP');
  return {
    async shutdown() {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          logger.warn({ endpoint: config.endpoint }, 'the last spans could not be exported in time');
          resolve();
        }, SHUTDOWN_TIMEOUT_MS);
      });
      await Promise.race([sdk.shutdown().catch((err: unknown) => logger.warn({ err }, 'the last spans could not be exported')), timeout]);
      clearTimeout(timer);
    },
  };
}
