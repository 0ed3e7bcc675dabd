import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ConnectRouter, Interceptor } from '@connectrpc/connect';
import { SERVICE_SCOPES, createIdentityResolver, serviceSpiffeId, type Identity } from '@c2pa-mesh/auth';
import { createCallerClientsFactory, createMeshClients, type MeshClients } from '@c2pa-mesh/clients';
import type { MeshConfig, ServiceName } from '@c2pa-mesh/config';
import {
  AccountService,
  CertificateAuthorityService,
  Health,
  OnboardingService,
  ProductCertificateService,
  RegistryService,
  ServerReflection,
  SigningService,
  TransparencyLogService,
  VerificationService,
  allFileDescriptors,
} from '@c2pa-mesh/proto';
import {
  createHealthService,
  createMeshInterceptors,
  createMetricsInterceptor,
  createTracingInterceptor,
  withHttpSpan,
  createReflectionService,
  startMetricsListener,
  startRelyingPartyListener,
  startTlsListener,
  type ReadinessCheck,
  type RelyingPartyListener,
  type RelyingPartyRoute,
  type AuditSink,
  type RunningListener,
} from '@c2pa-mesh/server';
import { certificateAuthorityRoutes, createCertificateAuthority, createCertificateAuthorityService, type CertificateAuthority } from '@c2pa-mesh/service-certificate-authority';
import {
  createAuditSink,
  createBucketLimiter,
  createRateLimitAdmission,
  createRegistryService,
  createWebhookTargetGuard,
  startWebhookDispatcher,
  type WebhookDispatcher,
} from '@c2pa-mesh/service-registry';
import {
  createDnsResolver,
  createDomainOwnership,
  createProductCertificateService,
  createProofKeyRing,
  createPublicProductCertificates,
  productCertificateSettingsFromEnv,
  startProofKeyRotation,
  type ProofKeyRotation,
  type PublicProductCertificates,
} from '@c2pa-mesh/service-product-certificate';
import { createAccessTokenKeys, createAccountService, createMailer, createOnboardingService, createPasswordChecker, type AccessTokenKeys, type Mailer } from '@c2pa-mesh/service-account';
import { createSigningService, type CertificateStatusEvents } from '@c2pa-mesh/service-signing';
import { createVerificationService } from '@c2pa-mesh/service-verification';
import { createUrlFetcher, verificationSettingsFromEnv } from '@c2pa-mesh/service-verification';
import { createGateway, verimagoSettingsFromEnv } from '@c2pa-mesh/gateway';
import { createConsoleHandler, createPasswordLogin, DEFAULT_CONSOLE_DIST, type ConsoleHandler } from '@c2pa-mesh/console';
import { type Database, migrateToLatest, openDatabase } from '@c2pa-mesh/storage';
import { sql } from 'kysely';
import { createEngine, withEngineSpans, type C2paEngine } from '@c2pa-mesh/engine';
import type { Logger } from 'pino';
import { createTransparencyLogService, openTransparencyLog, transparencyLogSettingsFromEnv, type TransparencyLog } from '@c2pa-mesh/transparency-log';
import { bootstrapPki, type MeshPki } from './bootstrap-pki.js';
import { transparencyLogRoutes } from './transparency-log-routes.js';
import { createMeshMetrics, type MeshMetrics } from './mesh-metrics.js';

export interface RunningMesh {
  config: MeshConfig;
  db: Database;
  pki: MeshPki;
  /** https URL of the RPC listener. */
  url: string;
  /** http URL of the relying-party listener, when this process runs the CA. */
  pkiUrl: string | undefined;
  /** http URL of the operations listener (/metrics, /readyz, /livez). */
  metricsUrl: string;
  close(): Promise<void>;
}

const DESCRIPTORS = {
  signing: SigningService,
  verification: VerificationService,
  'certificate-authority': CertificateAuthorityService,
  registry: RegistryService,
} as const;

/** Largest RPC message accepted: the 200 MB asset ceiling plus envelope. */
const READ_MAX_BYTES = 201 * 1024 * 1024;

function serviceIdentity(service: ServiceName): Identity {
  return { kind: 'SERVICE', id: serviceSpiffeId(service), serviceName: service, scopes: new Set(SERVICE_SCOPES[service]) };
}

export interface MeshAssembly {
  pki: MeshPki;
  /** Every local service, Health and reflection, for a listener or an in-process transport. */
  routes: (router: ConnectRouter) => void;
  interceptors: Interceptor[];
  relyingPartyRoutes: RelyingPartyRoute[];
  /** The typed clients a given mesh service uses (in-process or remote per the config). */
  clientsFor(service: ServiceName): MeshClients;
  /** Certificate status changes, when the CA runs in this process (it hears every one). */
  certificateStatus: CertificateStatusEvents | undefined;
  /** The C2PA engine (worker pool) when signing or verification runs here. */
  engine: C2paEngine | undefined;
  /** Where refused and completed calls are recorded (the registry's audit log). */
  audit: AuditSink;
  /** The drop-in HTTP gateway (MirrorStage, Verimago, DigiCert shapes) for the TLS listener. */
  gateway: ReturnType<typeof createGateway>;
  /** The web console (`/console/`) for the TLS listener. */
  console: ConsoleHandler;
  /** This mesh's metrics (its own registry). */
  metrics: MeshMetrics;
  /** False once draining started: health answers NOT_SERVING. */
  setServing(serving: boolean): void;
  /** Stops what the assembly started (engine workers, background jobs); the database stays open. */
  close(): Promise<void>;
}

/**
 * Builds the services this process runs (MESH_SERVICES) on an open, migrated database. The same
 * code serves the one-process and the four-process layouts: only the transports of the service
 * clients differ.
 */
export async function assembleMesh(config: MeshConfig, db: Database, logger: Logger, options: { metrics?: MeshMetrics } = {}): Promise<MeshAssembly> {
  const pki = await bootstrapPki({ config, db, logger });
  const metrics = options.metrics ?? createMeshMetrics(logger);
  let serving = true;
  let certificateAuthority: CertificateAuthority | undefined;
  // Client-certificate checks are kept only where the CA runs and hears every status change.
  const resolver = createIdentityResolver(db, { certificateChecksCached: () => certificateAuthority?.statusChangesHeard() ?? false });
  const audit = createAuditSink(db);
  const interceptors = [createTracingInterceptor(), createMetricsInterceptor(metrics.rpc), ...createMeshInterceptors({ resolver, audit, logger, admission: metrics.countRefusals(createRateLimitAdmission(db, { logger })) })];
  const local = new Set(config.services);
  const serviceKeys = new Map<ServiceName, string>();
  for (const service of config.services) serviceKeys.set(service, await readFile(pki.services[service].privateKeyPath, 'utf8'));

  // Filled below; the in-process clients route through it lazily, on their first call.
  const registrations: Array<(router: ConnectRouter) => void> = [];
  const routes = (router: ConnectRouter) => registrations.forEach((register) => register(router));
  const clientsFor = (service: ServiceName): MeshClients =>
    createMeshClients({
      caller: serviceIdentity(service),
      localServices: config.services,
      routes,
      interceptors,
      remote: {
        urls: config.serviceUrls,
        certificatePem: pki.services[service].pem,
        privateKeyPem: serviceKeys.get(service)!,
        caPem: pki.meshCa.pem,
      },
    });

  const relyingPartyRoutes: RelyingPartyRoute[] = [
    { method: 'GET', path: '/healthz', handle: () => ({ status: serving ? 200 : 503, contentType: 'text/plain; charset=utf-8', body: serving ? 'ok\n' : 'draining\n' }) },
  ];
  if (local.has('certificate-authority')) {
    certificateAuthority = createCertificateAuthority({
      db,
      logger: logger.child({ service: 'certificate-authority' }),
      clients: clientsFor('certificate-authority'),
      meshCa: pki.meshCa,
      c2paRoot: pki.c2paRoot,
      c2paIntermediate: pki.c2paIntermediate,
      ocspResponder: pki.ocspResponder,
      timeStampAuthority: pki.timeStampAuthority,
      keyEncryptionKey: pki.keyEncryptionKey,
      pkiPublicUrl: config.pkiPublicUrl,
      databaseUrl: config.databaseUrl,
    });
    certificateAuthority.onStatusChange(() => resolver.forgetCertificateChecks());
    metrics.observeCertificateAuthority(certificateAuthority);
    const impl = createCertificateAuthorityService(certificateAuthority);
    registrations.push((router) => router.service(CertificateAuthorityService, impl));
    relyingPartyRoutes.push(...certificateAuthorityRoutes(certificateAuthority));
  }
  const ca = certificateAuthority as CertificateAuthority | undefined;
  const certificateStatus: CertificateStatusEvents | undefined = ca && { heard: () => ca.statusChangesHeard(), onChange: (listener) => ca.onStatusChange(listener) };
  // One engine pool per process, shared by signing and verification.
  const engineOptions = {
    threads: config.engineThreads,
    maxQueue: config.engineMaxQueue,
    maxQueuePerTenant: config.engineMaxQueuePerProject,
    taskTimeoutMs: config.engineJobTimeoutMs,
  };
  const engine = local.has('signing') || local.has('verification') ? withEngineSpans(createEngine(engineOptions)) : undefined;
  if (engine) metrics.observeEngine(engine);
  metrics.observeDatabase(db);
  let webhookDispatcher: WebhookDispatcher | undefined;
  let proofKeyRotation: ProofKeyRotation | undefined;
  let productCertificates: PublicProductCertificates | undefined;
  let accountKeys: AccessTokenKeys | undefined;
  let mailer: Mailer | undefined;
  if (local.has('registry')) {
    const webhookTargets = createWebhookTargetGuard(config.webhookAllowHosts);
    const impl = createRegistryService({
      db,
      clients: clientsFor('registry'),
      keyEncryptionKey: pki.keyEncryptionKey,
      meshCaPem: pki.meshCa.pem,
      webhookTargets,
    });
    registrations.push((router) => router.service(RegistryService, impl));
    metrics.observeWebhookBacklog(db);
    webhookDispatcher = startWebhookDispatcher({
      db,
      keyEncryptionKey: pki.keyEncryptionKey,
      targets: webhookTargets,
      logger: logger.child({ service: 'registry' }),
      pollMs: config.webhookPollMs,
      retryBaseMs: config.webhookRetryBaseMs,
    });
    // Product certificates live beside the registry: they certify its assets, in its database.
    const settings = productCertificateSettingsFromEnv(process.env);
    const productLogger = logger.child({ service: 'product-certificate' });
    const keys = createProofKeyRing({ db, keyEncryptionKey: pki.keyEncryptionKey, algorithm: settings.algorithm });
    // The well-known file is fetched under the same SSRF policy as VerifyUrl, its host resolved
    // by the DNS servers domain verification uses.
    const wellKnownFetcher = createUrlFetcher(
      verificationSettingsFromEnv(process.env).url,
      settings.dnsServers.length > 0 ? createDnsResolver(settings.dnsServers).resolveHost : undefined,
    );
    const domains = createDomainOwnership(db, { enforced: settings.domainEnforcement, fetcher: wellKnownFetcher, dnsServers: settings.dnsServers });
    const productDeps = { db, keys, domains, logger: productLogger };
    const productImpl = createProductCertificateService(productDeps);
    registrations.push((router) => router.service(ProductCertificateService, productImpl));
    productCertificates = createPublicProductCertificates(productDeps);
    proofKeyRotation = startProofKeyRotation({ keys, everyDays: settings.keyRotationDays, algorithm: settings.algorithm, logger: productLogger });
    // Accounts of people live beside the registry too: the projects they act on are its.
    const accountLogger = logger.child({ service: 'account' });
    accountKeys = createAccessTokenKeys(db, pki.keyEncryptionKey);
    mailer = createMailer({ db, logger: accountLogger.child({ component: 'mail' }), config: config.accounts });
    const accountImpl = createAccountService({ db, logger: accountLogger, config: config.accounts, keys: accountKeys, mailer, passwords: createPasswordChecker(), keyEncryptionKey: pki.keyEncryptionKey });
    registrations.push((router) => router.service(AccountService, accountImpl));
    // Onboarding beside accounts: approval makes an organization and invites its contact.
    const onboardingImpl = createOnboardingService({ db, logger: logger.child({ service: 'onboarding' }), mailer, config: config.accounts, clients: clientsFor('registry') });
    registrations.push((router) => router.service(OnboardingService, onboardingImpl));
  }
  // The transparency log lives in the database: the registry's process sequences it and answers
  // its RPCs; the CA's process serves it as tiles on the relying-party listener.
  let transparencyLog: TransparencyLog | undefined;
  if (local.has('registry') || local.has('certificate-authority')) {
    const settings = transparencyLogSettingsFromEnv(process.env);
    const log = await openTransparencyLog({
      db,
      // Only the registry's process sequences (and so holds the log key); the CA's only reads.
      ...(local.has('registry') ? { keyEncryptionKey: pki.keyEncryptionKey } : {}),
      ...settings,
      onBatchError: (err) => logger.error({ err }, 'transparency log: a batch could not be written'),
    });
    transparencyLog = log;
    if (local.has('registry')) {
      const logImpl = createTransparencyLogService(log);
      registrations.push((router) => router.service(TransparencyLogService, logImpl));
    }
    if (local.has('certificate-authority')) relyingPartyRoutes.push(...transparencyLogRoutes(log));
  }
  if (local.has('signing')) {
    const impl = createSigningService({
      clients: clientsFor('signing'),
      engine: engine!,
      config,
      logger: logger.child({ service: 'signing' }),
      // The CA in this process hears every status change: signers are resolved once until one.
      ...(certificateStatus ? { certificateStatus } : {}),
    });
    registrations.push((router) => router.service(SigningService, impl));
  }
  if (local.has('verification')) {
    const impl = createVerificationService({ clients: clientsFor('verification'), engine: engine!, config, logger: logger.child({ service: 'verification' }) });
    registrations.push((router) => router.service(VerificationService, impl));
  }
  const servedNames = config.services.map((s) => DESCRIPTORS[s].typeName);
  if (local.has('registry')) servedNames.push(ProductCertificateService.typeName, TransparencyLogService.typeName, AccountService.typeName, OnboardingService.typeName);
  const health = createHealthService({ services: servedNames, serving: () => serving });
  const reflection = createReflectionService(allFileDescriptors, [...servedNames, Health.typeName, ServerReflection.typeName]);
  registrations.push((router) => {
    router.service(Health, health);
    router.service(ServerReflection, reflection);
  });
  // The gateway calls the services as its HTTP caller, through the same interceptors as an RPC.
  const callerClients = createCallerClientsFactory({ localServices: config.services, routes, interceptors, remote: { urls: config.serviceUrls, caPem: pki.meshCa.pem } });
  const gateway = createGateway({
    clientsFor: callerClients,
    resolver,
    engine,
    urlFetcher: createUrlFetcher(verificationSettingsFromEnv(process.env).url),
    audit,
    logger: logger.child({ component: 'gateway' }),
    serving: () => serving,
    productCertificates,
    accountKeys,
    limiter: createBucketLimiter(db, { logger }),
    verimago: verimagoSettingsFromEnv(process.env),
    largeUploads: { thresholdBytes: config.streamSignThresholdBytes, spoolDir: path.join(config.dataDir, 'spool') },
  });
  // People sign in to the console through AccountService/Login, as the browser's own call.
  const consoleHandler = createConsoleHandler({
    db,
    resolver,
    distDir: DEFAULT_CONSOLE_DIST,
    logger: logger.child({ component: 'console' }),
    passwordLogin: createPasswordLogin((peer) => callerClients(peer).account),
  });
  return {
    pki,
    routes,
    interceptors,
    relyingPartyRoutes,
    clientsFor,
    certificateStatus,
    engine,
    audit,
    gateway,
    console: consoleHandler,
    metrics,
    setServing(value) {
      serving = value;
    },
    async close() {
      mailer?.close();
      await Promise.all([engine?.close(), certificateAuthority?.close(), webhookDispatcher?.close(), proofKeyRotation?.close(), transparencyLog?.close()]);
    },
  };
}

/** The database's readiness check: why it is not ready, or undefined when a query answers. */
function databaseReadiness(state: { db: Database | undefined; migrated: boolean }, logger: Logger): () => Promise<string | undefined> {
  let failing = false;
  return async () => {
    if (!state.db) return 'opening';
    if (!state.migrated) return 'migrating';
    try {
      await sql`select 1`.execute(state.db);
      failing = false;
      return undefined;
    } catch (err) {
      // Logged once per outage; the probe, unauthenticated, gets the error code only.
      if (!failing) logger.warn({ err }, 'readiness: the database query failed');
      failing = true;
      return `query failed (${(err as { code?: string }).code ?? 'error'})`;
    }
  };
}

/**
 * Starts the operations listener, opens the database, assembles the local services and starts the
 * RPC and relying-party listeners. The operations listener comes first: probes get "not ready"
 * (and why) while the database migrates and the engine warms up.
 */
export async function startMesh(config: MeshConfig, logger: Logger): Promise<RunningMesh> {
  const metrics = createMeshMetrics(logger);
  metrics.collectRuntimeMetrics();
  const state = { db: undefined as Database | undefined, migrated: false, engineWarm: false, pkiLoaded: false, listening: false, draining: false };
  const needsEngine = config.services.includes('signing') || config.services.includes('verification');
  let engine: C2paEngine | undefined;
  const readiness: ReadinessCheck[] = [
    { name: 'database', check: databaseReadiness(state, logger) },
    ...(needsEngine
      ? [{ name: 'engine', check: () => (!state.engineWarm ? 'warming up' : engine && engine.stats().threads > 0 ? undefined : 'no worker threads') }]
      : []),
    { name: 'ca', check: () => (state.pkiLoaded ? undefined : 'loading the PKI') },
    { name: 'rpc', check: () => (state.draining ? 'shutting down' : state.listening ? undefined : 'starting') },
  ];
  const operations = await startMetricsListener({ host: config.host, port: config.metricsPort, registry: metrics.registry, readiness, logger });

  let db: Database | undefined;
  let tls: RunningListener | undefined;
  let relyingParty: RelyingPartyListener | undefined;
  let assembly: MeshAssembly | undefined;
  try {
    db = await openDatabase({ databaseUrl: config.databaseUrl, pgliteDir: path.join(config.dataDir, 'db'), connectTimeoutMs: config.databaseConnectTimeoutMs });
    state.db = db;
    const applied = await migrateToLatest(db);
    state.migrated = true;
    if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');
    const mesh = await assembleMesh(config, db, logger, { metrics });
    assembly = mesh;
    engine = mesh.engine;
    state.pkiLoaded = true;
    // No cold start: every engine worker has loaded the WebAssembly module before we listen.
    await mesh.engine?.warmup();
    state.engineWarm = true;
    tls = await startTlsListener({
      host: config.host,
      port: config.port,
      certificatePem: mesh.pki.server.pem,
      privateKeyPem: await readFile(mesh.pki.server.privateKeyPath, 'utf8'),
      clientCaPem: mesh.pki.meshCa.pem,
      routes: mesh.routes,
      interceptors: mesh.interceptors,
      logger,
      readMaxBytes: READ_MAX_BYTES,
      idleTimeoutMs: config.idleTimeoutMs,
      // Plain HTTP paths: the console under /console/, the drop-in REST gateway everywhere else.
      fallback: withHttpSpan('gateway', (req, res) => (mesh.console.handles(req) ? mesh.console.handle(req, res) : mesh.gateway(req, res))),
    });
    if (config.services.includes('certificate-authority')) {
      relyingParty = await startRelyingPartyListener({ host: config.pkiHttpHost, port: config.pkiHttpPort, routes: mesh.relyingPartyRoutes, logger });
    }
    state.listening = true;

    const database = db;
    let closing: Promise<void> | undefined;
    return {
      config,
      db: database,
      pki: mesh.pki,
      url: tls.url,
      pkiUrl: relyingParty?.url,
      metricsUrl: operations.url,
      close() {
        closing ??= (async () => {
          state.draining = true;
          mesh.setServing(false);
          await Promise.all([tls?.close(config.shutdownGraceMs), relyingParty?.close(config.shutdownGraceMs)]);
          await mesh.close();
          await database.destroy();
          // Last: probes keep hearing "shutting down" until the end.
          await operations.close(0);
        })();
        return closing;
      },
    };
  } catch (err) {
    await tls?.close(0).catch(() => undefined);
    await relyingParty?.close(0).catch(() => undefined);
    await assembly?.close().catch(() => undefined);
    await db?.destroy().catch(() => undefined);
    await operations.close(0).catch(() => undefined);
    throw err;
  }
}
