import path from 'node:path';

/** The four mesh services, by the names used in MESH_SERVICES and MESH_<SERVICE>_URL. */
export const SERVICE_NAMES = ['signing', 'verification', 'certificate-authority', 'registry'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface MeshConfig {
  /** Where the embedded database, the PKI and the key-encryption key live. */
  dataDir: string;
  host: string;
  port: number;
  /**
   * Further names and addresses the server certificate must carry (MESH_SERVER_NAMES), for
   * callers that reach this listener by a name other than MESH_HOST: a Kubernetes Service, a load
   * balancer. Every process sharing a data dir must be given the same list.
   */
  serverNames: string[];
  /** Plain-HTTP relying-party listener (OCSP, TSA, CA certificates, health). */
  pkiHttpHost: string;
  pkiHttpPort: number;
  /**
   * Plain-HTTP listener for Prometheus and probes (`/metrics`, `/readyz`, `/livez`), bound like the
   * TLS listener (MESH_HOST); port 0 picks a free one.
   */
  metricsPort: number;
  /** Base URL relying parties use to reach OCSP and CA issuers; written into certificates. */
  pkiPublicUrl: string;
  /**
   * Base URL callers reach the TLS listener by (MESH_PUBLIC_URL): remote manifest references
   * (`SignRequest.remote_manifest`) point to `<it>/sbr/v1/manifests/<label>`.
   */
  publicUrl: string;
  /** `postgres://…` for PostgreSQL; undefined selects embedded PGlite in the data dir. */
  databaseUrl: string | undefined;
  /** Services this process runs. */
  services: ServiceName[];
  /** Where the services this process does not run live (https URLs). */
  serviceUrls: Partial<Record<ServiceName, string>>;
  logLevel: LogLevel;
  /** Bounded wait for in-flight calls on shutdown. */
  shutdownGraceMs: number;
  /** A TLS connection with no request in flight is closed after this long (MESH_IDLE_TIMEOUT_MS). */
  idleTimeoutMs: number;
  /** How long connecting to PostgreSQL may take, at start and later (MESH_DATABASE_CONNECT_TIMEOUT_MS). */
  databaseConnectTimeoutMs: number;
  /** Worker threads running the C2PA engine. */
  engineThreads: number;
  /** Engine jobs that may wait for a worker in all (MESH_ENGINE_MAX_QUEUE); a project with none waiting still gets one in. */
  engineMaxQueue: number;
  /** Engine jobs one project may have waiting for a worker (MESH_ENGINE_MAX_QUEUE_PER_PROJECT); beyond, its calls get resource_exhausted. */
  engineMaxQueuePerProject: number;
  /** Running time of one engine job before it is stopped and its worker replaced (MESH_ENGINE_JOB_TIMEOUT_MS). */
  engineJobTimeoutMs: number;
  /**
   * SignStream uploads larger than this (bytes) in a format the streaming signer writes are
   * spooled to a file under the data dir and signed by it in constant memory, instead of by the
   * engine in memory (MESH_STREAM_SIGN_THRESHOLD_BYTES).
   */
  streamSignThresholdBytes: number;
  /**
   * Largest asset the streaming signer takes from the mesh's own identities (administrators,
   * services), which have no per-key limit (MESH_STREAM_MAX_ASSET_BYTES). A key's own limit
   * still applies to its callers.
   */
  streamMaxAssetBytes: number;
  /**
   * VerifyStream uploads larger than this (bytes) in a format whose manifest store the mesh can
   * locate are spooled to a file under the data dir and verified from it: the engine judges the
   * store alone and the hard binding is recomputed from the file in pieces
   * (MESH_STREAM_VERIFY_THRESHOLD_BYTES).
   */
  streamVerifyThresholdBytes: number;
  /**
   * Webhook targets that may be private or loopback addresses, or use plain http
   * (MESH_WEBHOOK_ALLOW_HOSTS: host names, IP addresses or CIDR ranges, comma-separated).
   */
  webhookAllowHosts: string[];
  /** First retry delay of a failed webhook delivery, doubled per attempt (MESH_WEBHOOK_RETRY_BASE_MS). */
  webhookRetryBaseMs: number;
  /** How often the webhook dispatcher looks for due deliveries (MESH_WEBHOOK_POLL_MS). */
  webhookPollMs: number;
  /** OpenTelemetry traces; see tracingConfig. */
  tracing: TracingConfig;
  /** Accounts of people and the mail sent to them; see accountsConfig. */
  accounts: AccountsConfig;
}

/** Raised at start-up; the message names the variable and what is wrong with it. */
export class ConfigError extends Error {
  constructor(readonly variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

function port(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    throw new ConfigError(name, `expected a TCP port number (0-65535), got "${raw}"`);
  }
  return value;
}

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) {
    throw new ConfigError(name, `expected a positive integer, got "${raw}"`);
  }
  return value;
}

function httpsUrl(name: string, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `expected a URL such as https://10.0.0.5:8443, got "${raw}"`);
  }
  if (url.protocol !== 'https:') throw new ConfigError(name, `must be an https:// URL (services talk mTLS), got "${raw}"`);
  return url.origin;
}

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const IP_OR_CIDR = /^(\[?[0-9a-f:.]+\]?)(\/\d{1,3})?$/i;

function webhookAllowHosts(env: NodeJS.ProcessEnv, name = 'MESH_WEBHOOK_ALLOW_HOSTS'): string[] {
  const raw = env[name] ?? '';
  const entries = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const entry of entries) {
    if (!HOST_NAME.test(entry) && !IP_OR_CIDR.test(entry)) {
      throw new ConfigError(name, `"${entry}" is not a host name, IP address or CIDR range (e.g. hooks.internal, 127.0.0.1, 10.0.0.0/8)`);
    }
  }
  return entries;
}

function serverNames(env: NodeJS.ProcessEnv): string[] {
  const entries = (env.MESH_SERVER_NAMES ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const entry of entries) {
    if (!HOST_NAME.test(entry) && !/^[0-9a-f:.]+$/i.test(entry)) {
      throw new ConfigError('MESH_SERVER_NAMES', `"${entry}" is not a DNS name or IP address (e.g. c2pa-mesh-registry, 10.0.0.5)`);
    }
  }
  return entries;
}

export function serviceUrlVariable(service: ServiceName): string {
  return `MESH_${service.toUpperCase().replace(/-/g, '_')}_URL`;
}

export interface TracingConfig {
  /**
   * Traces are exported by OTLP when OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
   * is set, unless OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none; otherwise no SDK starts.
   * The other OTEL_* variables (protocol, headers, sampler, resource attributes) are read by the
   * OpenTelemetry SDK itself.
   */
  enabled: boolean;
  /** The collector, as given (the SDK appends /v1/traces to OTEL_EXPORTER_OTLP_ENDPOINT). */
  endpoint: string | undefined;
  /** OTEL_SERVICE_NAME, else c2pa-mesh, or c2pa-mesh-<service> for a process running one service. */
  serviceName: string;
}

function otlpUrl(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `expected the collector's URL such as http://127.0.0.1:4318, got "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(name, `must be an http:// or https:// URL, got "${raw}"`);
  return raw;
}

export function tracingConfig(env: NodeJS.ProcessEnv, services: readonly ServiceName[]): TracingConfig {
  const endpoint = otlpUrl(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') ?? otlpUrl(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  const disabled = /^true$/i.test(env.OTEL_SDK_DISABLED?.trim() ?? '') || (env.OTEL_TRACES_EXPORTER ?? '').split(',').map((s) => s.trim()).includes('none');
  const serviceName = env.OTEL_SERVICE_NAME?.trim() || (services.length === 1 ? `c2pa-mesh-${services[0]}` : 'c2pa-mesh');
  return { enabled: endpoint !== undefined && !disabled, endpoint, serviceName };
}

export interface AccountsConfig {
  /** MESH_SMTP_URL (`smtp://host:port` or `smtps://…`); unset: mail goes to the outbox table and the log. */
  smtpUrl: string | undefined;
  /** MESH_MAIL_FROM: the sender of the mail. */
  mailFrom: string;
  /** Lifetime of an access token (MESH_ACCESS_TOKEN_TTL_SECONDS, default 15 minutes). */
  accessTokenTtlSeconds: number;
  /** Lifetime of a session without refresh (MESH_REFRESH_TOKEN_TTL_SECONDS, default 30 days). */
  refreshTokenTtlSeconds: number;
  /** Login attempts per minute for one e-mail address (MESH_LOGIN_ATTEMPTS_PER_ACCOUNT, default 10). */
  loginAttemptsPerAccount: number;
  /** Login attempts per minute from one client address (MESH_LOGIN_ATTEMPTS_PER_ADDRESS, default 30). */
  loginAttemptsPerAddress: number;
  /**
   * Identity-provider hosts the mesh may reach although they are not public addresses, and over
   * plain http (MESH_OIDC_ALLOW_HOSTS: host names, IP addresses or CIDR ranges, comma-separated).
   */
  oidcAllowHosts: string[];
  /**
   * Where a person approves a device login (MESH_DEVICE_VERIFICATION_URL); unset: the
   * `/device` page on the address the device called.
   */
  deviceVerificationUrl: string | undefined;
  /** Seconds a device waits between polls of a device login (MESH_DEVICE_POLL_INTERVAL_SECONDS, default 5). */
  devicePollIntervalSeconds: number;
}

function deviceVerificationUrl(env: NodeJS.ProcessEnv): string | undefined {
  const raw = env.MESH_DEVICE_VERIFICATION_URL?.trim() || undefined;
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('MESH_DEVICE_VERIFICATION_URL', `expected an absolute URL such as https://mesh.example.com/device, got "${raw}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigError('MESH_DEVICE_VERIFICATION_URL', `must be an http(s):// URL, got "${raw}"`);
  return url.toString();
}

export function accountsConfig(env: NodeJS.ProcessEnv): AccountsConfig {
  const rawSmtp = env.MESH_SMTP_URL?.trim() || undefined;
  if (rawSmtp !== undefined) {
    let url: URL;
    try {
      url = new URL(rawSmtp);
    } catch {
      throw new ConfigError('MESH_SMTP_URL', `expected a URL such as smtp://127.0.0.1:25, got "${rawSmtp}"`);
    }
    if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') throw new ConfigError('MESH_SMTP_URL', `must be an smtp:// or smtps:// URL, got "${url.protocol}//…"`);
  }
  const mailFrom = env.MESH_MAIL_FROM?.trim() || 'c2pa-mesh <no-reply@localhost>';
  if (!/^[^\r\n]+@[^\r\n]+$/.test(mailFrom)) throw new ConfigError('MESH_MAIL_FROM', `expected an e-mail address such as "C2PA Mesh <no-reply@example.com>", got "${mailFrom}"`);
  return {
    smtpUrl: rawSmtp,
    mailFrom,
    accessTokenTtlSeconds: positiveInt(env, 'MESH_ACCESS_TOKEN_TTL_SECONDS', 900),
    refreshTokenTtlSeconds: positiveInt(env, 'MESH_REFRESH_TOKEN_TTL_SECONDS', 30 * 24 * 3600),
    loginAttemptsPerAccount: positiveInt(env, 'MESH_LOGIN_ATTEMPTS_PER_ACCOUNT', 10),
    loginAttemptsPerAddress: positiveInt(env, 'MESH_LOGIN_ATTEMPTS_PER_ADDRESS', 30),
    oidcAllowHosts: webhookAllowHosts(env, 'MESH_OIDC_ALLOW_HOSTS'),
    deviceVerificationUrl: deviceVerificationUrl(env),
    devicePollIntervalSeconds: positiveInt(env, 'MESH_DEVICE_POLL_INTERVAL_SECONDS', 5),
  };
}

/** Reads the configuration once; throws ConfigError naming the first bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): MeshConfig {
  const dataDir = path.resolve(env.MESH_DATA_DIR || './.data');
  const host = env.MESH_HOST || '127.0.0.1';
  const meshPort = port(env, 'MESH_PORT', 8443);
  const pkiHttpPort = port(env, 'PKI_HTTP_PORT', 8080);
  const pkiHttpHost = env.PKI_HTTP_HOST || host;

  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL', 'expected a postgres:// or postgresql:// URL; leave it unset for the embedded database');
  }

  let services: ServiceName[] = [...SERVICE_NAMES];
  if (env.MESH_SERVICES !== undefined && env.MESH_SERVICES.trim() !== '') {
    services = [];
    for (const item of env.MESH_SERVICES.split(',').map((s) => s.trim()).filter(Boolean)) {
      if (!(SERVICE_NAMES as readonly string[]).includes(item)) {
        throw new ConfigError('MESH_SERVICES', `unknown service "${item}"; choose from ${SERVICE_NAMES.join(', ')}`);
      }
      if (!services.includes(item as ServiceName)) services.push(item as ServiceName);
    }
    if (services.length === 0) throw new ConfigError('MESH_SERVICES', 'names no service');
  }

  const serviceUrls: Partial<Record<ServiceName, string>> = {};
  for (const service of SERVICE_NAMES) {
    const variable = serviceUrlVariable(service);
    const raw = env[variable];
    if (raw) serviceUrls[service] = httpsUrl(variable, raw);
    else if (!services.includes(service)) {
      throw new ConfigError(variable, `this process does not run the ${service} service (MESH_SERVICES), so it needs its URL`);
    }
  }

  const logLevel = (env.LOG_LEVEL || 'info') as LogLevel;
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `expected debug, info, warn or error, got "${env.LOG_LEVEL}"`);
  }

  const publicHost = pkiHttpHost === '0.0.0.0' || pkiHttpHost === '::' ? '127.0.0.1' : pkiHttpHost;
  const pkiPublicUrl = env.PKI_PUBLIC_URL || `http://${publicHost.includes(':') ? `[${publicHost}]` : publicHost}:${pkiHttpPort}`;

  return {
    dataDir,
    host,
    port: meshPort,
    serverNames: serverNames(env),
    pkiHttpHost,
    pkiHttpPort,
    metricsPort: port(env, 'MESH_METRICS_PORT', 9464),
    pkiPublicUrl,
    publicUrl: env.MESH_PUBLIC_URL ? httpsUrl('MESH_PUBLIC_URL', env.MESH_PUBLIC_URL) : `https://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host}:${meshPort}`,
    databaseUrl,
    services,
    serviceUrls,
    logLevel,
    shutdownGraceMs: positiveInt(env, 'MESH_SHUTDOWN_GRACE_MS', 10_000),
    idleTimeoutMs: positiveInt(env, 'MESH_IDLE_TIMEOUT_MS', 60_000),
    databaseConnectTimeoutMs: positiveInt(env, 'MESH_DATABASE_CONNECT_TIMEOUT_MS', 10_000),
    engineThreads: positiveInt(env, 'MESH_ENGINE_THREADS', 2),
    streamSignThresholdBytes: positiveInt(env, 'MESH_STREAM_SIGN_THRESHOLD_BYTES', 16 * 1024 * 1024),
    streamMaxAssetBytes: positiveInt(env, 'MESH_STREAM_MAX_ASSET_BYTES', 4 * 1024 * 1024 * 1024),
    streamVerifyThresholdBytes: positiveInt(env, 'MESH_STREAM_VERIFY_THRESHOLD_BYTES', 16 * 1024 * 1024),
    engineMaxQueue: positiveInt(env, 'MESH_ENGINE_MAX_QUEUE', 32),
    engineMaxQueuePerProject: positiveInt(env, 'MESH_ENGINE_MAX_QUEUE_PER_PROJECT', 16),
    engineJobTimeoutMs: positiveInt(env, 'MESH_ENGINE_JOB_TIMEOUT_MS', 60_000),
    webhookAllowHosts: webhookAllowHosts(env),
    webhookRetryBaseMs: positiveInt(env, 'MESH_WEBHOOK_RETRY_BASE_MS', 10_000),
    webhookPollMs: positiveInt(env, 'MESH_WEBHOOK_POLL_MS', 1000),
    tracing: tracingConfig(env, services),
    accounts: accountsConfig(env),
  };
}
