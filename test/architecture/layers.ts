/**
 * The layers of the workspace, lowest first, by package name without the `@c2pa-mesh/` scope.
 * What ships (every source file that is not a test helper) may import only packages of a lower
 * layer; packages of one layer do not import each other, which keeps the graph free of cycles.
 * The order is the one the imports had when it was first written down; a change to it is a
 * change to the architecture and belongs in review.
 */
export const LAYERS: readonly (readonly string[])[] = [
  // Vocabulary: domain errors, configuration, generated protobuf types.
  ['errors', 'config', 'proto'],
  // Leaves that do one job each: the C2PA engine, private keys, the database, the vocabulary of
  // MC4P product certificates (shared by the service that issues them and the offline verifier),
  // the one policy on which addresses outbound fetches may reach, soft bindings (perceptual
  // fingerprints of decoded media).
  ['engine', 'key-custody', 'storage', 'mc4p', 'address-policy', 'soft-binding'],
  // Certificates, OCSP, CRLs, time-stamps (over key custody); the transparency log of claim
  // signatures (over the database and key custody); the streaming C2PA manifest writer for large
  // assets (over the engine's signer and intents).
  ['pki', 'transparency-log', 'c2pa-stream'],
  // Identities, scopes, API keys (over storage).
  ['auth'],
  // Connect plumbing: interceptors, TLS listener, error mapping.
  ['server'],
  // Typed clients of the services, in-process or remote.
  ['clients'],
  // The services and the HTTP gateway in front of them, peers that reach each other only
  // through clients.
  // The web console's server side (static files, sessions) sits beside the gateway.
  ['service-certificate-authority', 'service-registry', 'service-signing', 'service-verification', 'service-product-certificate', 'service-account', 'gateway', 'console'],
  // Programs: the mesh assembles the services; the CLI talks to a mesh over the network.
  ['mesh', 'cli'],
];

/** The one package that may import services: it assembles them into a process. */
export const COMPOSITION_ROOT = 'mesh';

/** Workspace directories whose packages are services (everything else is a package). */
export const SERVICES_DIR = 'services';
