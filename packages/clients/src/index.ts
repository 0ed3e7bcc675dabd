import { createClient, createConnectRouter, createContextValues, type Client, type ConnectRouter, type Interceptor, type Transport } from '@connectrpc/connect';
import { createUniversalHandlerClient, type UniversalHandler } from '@connectrpc/connect/protocol';
import { createTransport } from '@connectrpc/connect/protocol-connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import type { Identity } from '@c2pa-mesh/auth';
import type { ServiceName } from '@c2pa-mesh/config';
import { CertificateAuthorityService, RegistryService, SigningService, VerificationService } from '@c2pa-mesh/proto';
import { peerKey } from '@c2pa-mesh/server';

/** Typed clients for the four services: the only way one service reaches another. */
export interface MeshClients {
  signing: Client<typeof SigningService>;
  verification: Client<typeof VerificationService>;
  certificateAuthority: Client<typeof CertificateAuthorityService>;
  registry: Client<typeof RegistryService>;
}

export interface MeshClientOptions {
  /** Identity of the calling service (its scopes decide what it may call). */
  caller: Identity;
  /** Services running in this process, served by `routes` through `interceptors`. */
  localServices: readonly ServiceName[];
  routes: (router: ConnectRouter) => void;
  interceptors: Interceptor[];
  /** Where the other services live, and the calling service's own mTLS credentials. */
  remote: {
    urls: Partial<Record<ServiceName, string>>;
    certificatePem: string;
    privateKeyPem: string;
    caPem: string;
  };
}

/**
 * Like Connect's router transport, but every request reaches the handlers with the calling
 * service's identity in its context values (the router transport passes no context values).
 */
export function createInProcessTransport(options: {
  routes: (router: ConnectRouter) => void;
  interceptors: Interceptor[];
  /** The caller's identity; without one, credentials come from request headers (API keys). */
  caller?: Identity;
  clientIp?: string;
}): Transport {
  const router = createConnectRouter({ interceptors: options.interceptors, connect: true });
  options.routes(router);
  const handlers = router.handlers.map((handler): UniversalHandler => {
    const withIdentity = (req: Parameters<UniversalHandler>[0]) => {
      const contextValues = createContextValues();
      contextValues.set(peerKey, { clientIp: options.clientIp ?? 'in-process', credentials: {}, presetIdentity: options.caller });
      return handler({ ...req, contextValues });
    };
    return Object.assign(withIdentity, {
      protocolNames: handler.protocolNames,
      service: handler.service,
      method: handler.method,
      requestPath: handler.requestPath,
      allowedMethods: handler.allowedMethods,
      supportedContentType: handler.supportedContentType,
    });
  });
  return createTransport({
    httpClient: createUniversalHandlerClient(handlers),
    baseUrl: 'https://in-process',
    useBinaryFormat: true,
    interceptors: [],
    acceptCompression: [],
    sendCompression: null,
    compressMinBytes: Number.MAX_SAFE_INTEGER,
    readMaxBytes: Number.MAX_SAFE_INTEGER,
    writeMaxBytes: Number.MAX_SAFE_INTEGER,
  });
}

/**
 * The same Connect client in both layouts: in-process it runs through a router transport (the
 * full interceptor chain, the caller's service identity attached by construction), across
 * processes through gRPC over HTTP/2 with the caller's own client certificate.
 */
export function createMeshClients(options: MeshClientOptions): MeshClients {
  let local: Transport | undefined;
  const transports = new Map<string, Transport>();

  function transportFor(service: ServiceName): Transport {
    if (options.localServices.includes(service)) {
      local ??= createInProcessTransport(options);
      return local;
    }
    const url = options.remote.urls[service];
    if (!url) throw new Error(`no URL configured for the ${service} service`);
    let transport = transports.get(url);
    if (!transport) {
      transport = createGrpcTransport({
        baseUrl: url,
        nodeOptions: {
          ca: options.remote.caPem,
          cert: options.remote.certificatePem,
          key: options.remote.privateKeyPem,
        },
      });
      transports.set(url, transport);
    }
    return transport;
  }

  // Transports are created on first use: a service that never calls another opens nothing.
  const lazy = <T>(make: () => T) => {
    let value: T | undefined;
    return () => (value ??= make());
  };
  const signing = lazy(() => createClient(SigningService, transportFor('signing')));
  const verification = lazy(() => createClient(VerificationService, transportFor('verification')));
  const certificateAuthority = lazy(() => createClient(CertificateAuthorityService, transportFor('certificate-authority')));
  const registry = lazy(() => createClient(RegistryService, transportFor('registry')));
  return {
    get signing() {
      return signing();
    },
    get verification() {
      return verification();
    },
    get certificateAuthority() {
      return certificateAuthority();
    },
    get registry() {
      return registry();
    },
  };
}
