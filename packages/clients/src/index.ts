import { createClient, type Client, type ConnectRouter, type Interceptor, type Transport } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import type { Identity } from '@c2pa-mesh/auth';
import type { ServiceName } from '@c2pa-mesh/config';
import { AccountService, CertificateAuthorityService, OnboardingService, RegistryService, SigningService, TransparencyLogService, VerificationService } from '@c2pa-mesh/proto';
import { peerKey, type PeerContext } from '@c2pa-mesh/server';
import { createDirectTransportFactory } from './direct-transport.js';
import { createTracePropagationInterceptor } from './trace-propagation.js';
import { createResettingSessionManager } from './http2-sessions.js';

export { createResettingSessionManager } from './http2-sessions.js';

export { createDirectTransportFactory, createTracePropagationInterceptor };

/** Typed clients for the four services: the only way one service reaches another. */
export interface MeshClients {
  signing: Client<typeof SigningService>;
  verification: Client<typeof VerificationService>;
  certificateAuthority: Client<typeof CertificateAuthorityService>;
  registry: Client<typeof RegistryService>;
  /** The transparency log, served where the registry runs (its sequencer owns the log). */
  transparencyLog: Client<typeof TransparencyLogService>;
}

/** What an outside caller reaches through the gateway: the services, and accounts of people. */
export interface CallerClients extends MeshClients {
  /** Served beside the registry (where the registry runs). */
  account: Client<typeof AccountService>;
  /** Applications of publishers and creators, served beside accounts. */
  onboarding: Client<typeof OnboardingService>;
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
 * Per caller, a transport into the services of this process whose every request reaches them with
 * that caller's peer context (client IP, identity, request id): unary calls as function calls
 * through the server interceptors (see createDirectTransportFactory). The full interceptor chain
 * runs: authentication, scopes, limits and audit apply exactly as on the network. Headers a call
 * sends (`Authorization`, `Origin`) are what the interceptors read credentials from.
 */
export function createPeerTransportFactory(routes: (router: ConnectRouter) => void, interceptors: Interceptor[]): (peer: PeerContext) => Transport {
  return createDirectTransportFactory(routes, interceptors, [createTracePropagationInterceptor('in-process')]);
}

/**
 * A transport into the routes as one fixed caller: a mesh service's identity, attached by
 * construction, or (without `caller`) whoever the request headers name (API keys).
 */
export function createInProcessTransport(options: {
  routes: (router: ConnectRouter) => void;
  interceptors: Interceptor[];
  /** The caller's identity; without one, credentials come from request headers (API keys). */
  caller?: Identity;
  clientIp?: string;
}): Transport {
  return createPeerTransportFactory(options.routes, options.interceptors)({
    clientIp: options.clientIp ?? 'in-process',
    credentials: {},
    presetIdentity: options.caller,
  });
}

/** Clients for an outside caller of the mesh (the HTTP gateway's callers), per request. */
export interface CallerClientsOptions {
  /** Services running in this process, served by `routes` through `interceptors`. */
  localServices: readonly ServiceName[];
  routes: (router: ConnectRouter) => void;
  interceptors: Interceptor[];
  /** Where the other services live, and the mesh CA their TLS certificates chain to. */
  remote: { urls: Partial<Record<ServiceName, string>>; caPem: string };
}

/**
 * Clients that act as an outside caller, never as this process: local services get the caller's
 * peer context in process; remote services are reached over TLS without this process's client
 * certificate, so only the credentials the caller sends in its headers (an API key) go along — a
 * caller can never borrow the rights of the service it happens to reach first.
 */
export function createCallerClientsFactory(options: CallerClientsOptions): (peer: PeerContext) => CallerClients {
  const localTransport = createPeerTransportFactory(options.routes, options.interceptors);
  const remoteTransports = new Map<string, Transport>();
  function remoteTransport(service: ServiceName): Transport {
    const url = options.remote.urls[service];
    if (!url) throw new Error(`no URL configured for the ${service} service`);
    let transport = remoteTransports.get(url);
    if (!transport) {
      transport = createGrpcTransport({
        baseUrl: url,
        sessionManager: createResettingSessionManager(url, { ca: options.remote.caPem }),
        interceptors: [createTracePropagationInterceptor('remote')],
      });
      remoteTransports.set(url, transport);
    }
    return transport;
  }
  return (peer) => {
    let local: Transport | undefined;
    const transportFor = (service: ServiceName) => (options.localServices.includes(service) ? (local ??= localTransport(peer)) : remoteTransport(service));
    return {
      get signing() {
        return createClient(SigningService, transportFor('signing'));
      },
      get verification() {
        return createClient(VerificationService, transportFor('verification'));
      },
      get certificateAuthority() {
        return createClient(CertificateAuthorityService, transportFor('certificate-authority'));
      },
      get registry() {
        return createClient(RegistryService, transportFor('registry'));
      },
      get transparencyLog() {
        return createClient(TransparencyLogService, transportFor('registry'));
      },
      get account() {
        return createClient(AccountService, transportFor('registry'));
      },
      get onboarding() {
        return createClient(OnboardingService, transportFor('registry'));
      },
    };
  };
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
      local ??= createPeerTransportFactory(options.routes, options.interceptors)({
        clientIp: 'in-process',
        credentials: {},
        presetIdentity: options.caller,
        internalCall: true,
      });
      return local;
    }
    const url = options.remote.urls[service];
    if (!url) throw new Error(`no URL configured for the ${service} service`);
    let transport = transports.get(url);
    if (!transport) {
      transport = createGrpcTransport({
        baseUrl: url,
        interceptors: [createTracePropagationInterceptor('remote')],
        sessionManager: createResettingSessionManager(url, {
          ca: options.remote.caPem,
          cert: options.remote.certificatePem,
          key: options.remote.privateKeyPem,
        }),
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
  const transparencyLog = lazy(() => createClient(TransparencyLogService, transportFor('registry')));
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
    get transparencyLog() {
      return transparencyLog();
    },
  };
}
