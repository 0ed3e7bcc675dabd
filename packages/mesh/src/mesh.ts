import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ConnectRouter, Interceptor } from '@connectrpc/connect';
import { SERVICE_SCOPES, createIdentityResolver, serviceSpiffeId, type Identity } from '@c2pa-mesh/auth';
import { createCallerClientsFactory, createMeshClients, type MeshClients } from '@c2pa-mesh/clients';
import type { MeshConfig, ServiceName } from '@c2pa-mesh/config';
import { CertificateAuthorityService, Health, RegistryService, ServerReflection, SigningService, VerificationService, allFileDescriptors } from '@c2pa-mesh/proto';
import {
  createHealthService,
  createMeshInterceptor,
  createReflectionService,
  startRelyingPartyListener,
  startTlsListener,
  type RelyingPartyListener,
  type RelyingPartyRoute,
  type RunningListener,
} from '@c2pa-mesh/server';
import { certificateAuthorityRoutes, createCertificateAuthority, createCertificateAuthorityService, type CertificateAuthority } from '@c2pa-mesh/service-certificate-authority';
import {
  createAuditSink,
  createRateLimitAdmission,
  createRegistryService,
  createWebhookTargetGuard,
  startWebhookDispatcher,
  type WebhookDispatcher,
} from '@c2pa-mesh/service-registry';
import { createSigningService } from '@c2pa-mesh/service-signing';
import { createVerificationService } from '@c2pa-mesh/service-verification';
import { createUrlFetcher, verificationSettingsFromEnv } from '@c2pa-mesh/service-verification';
import { createGateway } from '@c2pa-mesh/gateway';
import { type Database, migrateToLatest, openDatabase } from '@c2pa-mesh/storage';
import { createEngine, type C2paEngine } from '@c2pa-mesh/engine';
import type { Logger } from 'pino';
import { bootstrapPki, type MeshPki } from './bootstrap-pki.js';

export interface RunningMesh {
  config: MeshConfig;
  db: Database;
  pki: MeshPki;
  /** https URL of the RPC listener. */
  url: string;
  /** http URL of the relying-party listener, when this process runs the CA. */
  pkiUrl: string | undefined;
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
  /** The C2PA engine (worker pool) when signing or verification runs here. */
  engine: C2paEngine | undefined;
  /** The drop-in HTTP gateway (MirrorStage, Verimago, DigiCert shapes) for the TLS listener. */
  gateway: ReturnType<typeof createGateway>;
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
export async function assembleMesh(config: MeshConfig, db: Database, logger: Logger): Promise<MeshAssembly> {
  const pki = await bootstrapPki({ config, db, logger });
  let serving = true;
  let certificateAuthority: CertificateAuthority | undefined;
  // Client-certificate checks are kept only where the CA runs and hears every status change.
  const resolver = createIdentityResolver(db, { certificateChecksCached: () => certificateAuthority?.statusChangesHeard() ?? false });
  const audit = createAuditSink(db);
  const interceptors = [createMeshInterceptor({ resolver, audit, logger, admission: createRateLimitAdmission(db, { logger }) })];
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
    const impl = createCertificateAuthorityService(certificateAuthority);
    registrations.push((router) => router.service(CertificateAuthorityService, impl));
    relyingPartyRoutes.push(...certificateAuthorityRoutes(certificateAuthority));
  }
  // One engine pool per process, shared by signing and verification.
  const engine = local.has('signing') || local.has('verification') ? createEngine({ threads: config.engineThreads }) : undefined;
  let webhookDispatcher: WebhookDispatcher | undefined;
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
    webhookDispatcher = startWebhookDispatcher({
      db,
      keyEncryptionKey: pki.keyEncryptionKey,
      targets: webhookTargets,
      logger: logger.child({ service: 'registry' }),
      pollMs: config.webhookPollMs,
      retryBaseMs: config.webhookRetryBaseMs,
    });
  }
  if (local.has('signing')) {
    const impl = createSigningService({ clients: clientsFor('signing'), engine: engine!, config, logger: logger.child({ service: 'signing' }) });
    registrations.push((router) => router.service(SigningService, impl));
  }
  if (local.has('verification')) {
    const impl = createVerificationService({ clients: clientsFor('verification'), engine: engine!, config, logger: logger.child({ service: 'verification' }) });
    registrations.push((router) => router.service(VerificationService, impl));
  }
  const servedNames = config.services.map((s) => DESCRIPTORS[s].typeName);
  const health = createHealthService({ services: servedNames, serving: () => serving });
  const reflection = createReflectionService(allFileDescriptors, [...servedNames, Health.typeName, ServerReflection.typeName]);
  registrations.push((router) => {
    router.service(Health, health);
    router.service(ServerReflection, reflection);
  });
  // The gateway calls the services as its HTTP caller, through the same interceptors as an RPC.
  const gateway = createGateway({
    clientsFor: createCallerClientsFactory({ localServices: config.services, routes, interceptors, remote: { urls: config.serviceUrls, caPem: pki.meshCa.pem } }),
    resolver,
    engine,
    urlFetcher: createUrlFetcher(verificationSettingsFromEnv(process.env).url),
    audit,
    logger: logger.child({ component: 'gateway' }),
    serving: () => serving,
  });
  return {
    pki,
    routes,
    interceptors,
    relyingPartyRoutes,
    clientsFor,
    engine,
    gateway,
    setServing(value) {
      serving = value;
    },
    async close() {
      await Promise.all([engine?.close(), certificateAuthority?.close(), webhookDispatcher?.close()]);
    },
  };
}

/** Opens the database, assembles the local services and starts both listeners. */
export async function startMesh(config: MeshConfig, logger: Logger): Promise<RunningMesh> {
  const db = await openDatabase({ databaseUrl: config.databaseUrl, pgliteDir: path.join(config.dataDir, 'db'), connectTimeoutMs: config.databaseConnectTimeoutMs });
  let tls: RunningListener | undefined;
  let relyingParty: RelyingPartyListener | undefined;
  let assembly: MeshAssembly | undefined;
  try {
    const applied = await migrateToLatest(db);
    if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');
    const mesh = await assembleMesh(config, db, logger);
    assembly = mesh;
    // No cold start: every engine worker has loaded the WebAssembly module before we listen.
    await mesh.engine?.warmup();
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
      fallback: mesh.gateway,
    });
    if (config.services.includes('certificate-authority')) {
      relyingParty = await startRelyingPartyListener({ host: config.pkiHttpHost, port: config.pkiHttpPort, routes: mesh.relyingPartyRoutes, logger });
    }

    let closing: Promise<void> | undefined;
    return {
      config,
      db,
      pki: mesh.pki,
      url: tls.url,
      pkiUrl: relyingParty?.url,
      close() {
        closing ??= (async () => {
          mesh.setServing(false);
          await Promise.all([tls?.close(config.shutdownGraceMs), relyingParty?.close(config.shutdownGraceMs)]);
          await mesh.close();
          await db.destroy();
        })();
        return closing;
      },
    };
  } catch (err) {
    await tls?.close(0).catch(() => undefined);
    await relyingParty?.close(0).catch(() => undefined);
    await assembly?.close().catch(() => undefined);
    await db.destroy().catch(() => undefined);
    throw err;
  }
}
