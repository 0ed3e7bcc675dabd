import { createClient, ConnectError, type Client, type Transport } from '@connectrpc/connect';
import type { Identity } from '@c2pa-mesh/auth';
import { ADMIN_IDENTITY, type TestMesh } from '@c2pa-mesh/mesh/testing';
import { RegistryService } from '@c2pa-mesh/proto';

export type RegistryClient = Client<typeof RegistryService>;

/** A transport that adds request headers (an API key, an Origin) to every call, as a client would. */
export function withHeaders(transport: Transport, headers: Record<string, string>): Transport {
  const merged = (header: ConstructorParameters<typeof Headers>[0]) => {
    const result = new Headers(header);
    for (const [name, value] of Object.entries(headers)) result.set(name, value);
    return result;
  };
  return {
    unary: (method, signal, timeoutMs, header, input, contextValues) => transport.unary(method, signal, timeoutMs, merged(header), input, contextValues),
    stream: (method, signal, timeoutMs, header, input, contextValues) => transport.stream(method, signal, timeoutMs, merged(header), input, contextValues),
  };
}

export function adminRegistry(mesh: TestMesh): RegistryClient {
  return createClient(RegistryService, mesh.transport(ADMIN_IDENTITY));
}

export function registryAs(mesh: TestMesh, identity: Identity): RegistryClient {
  return createClient(RegistryService, mesh.transport(identity));
}

/** A client authenticated the way API-key users are: `Authorization: Bearer <key>` on each request. */
export function registryWithKey(mesh: TestMesh, key: string, headers: Record<string, string> = {}): RegistryClient {
  return createClient(RegistryService, withHeaders(mesh.transport(), { authorization: `Bearer ${key}`, ...headers }));
}

/** The error a call failed with (or fails the test when it succeeded). */
export async function failure(call: Promise<unknown>): Promise<ConnectError> {
  try {
    await call;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error('expected the call to fail, and it succeeded');
}

let counter = 0;
/** Creates a project and a key in it with the given scopes; returns the project id, key id and secret. */
export async function projectWithKey(admin: RegistryClient, scopes: string[], options: { name?: string; requestsPerMinute?: number } = {}) {
  const { projectId } = await admin.createProject({ name: options.name ?? `project ${process.pid}-${++counter}-${Date.now()}` });
  const created = await admin.createApiKey({ projectId, name: 'test key', scopes, requestsPerMinute: options.requestsPerMinute ?? 0 });
  return { projectId, keyId: created.keyId, key: created.key };
}

export const SHA256_A = `sha256:${'a'.repeat(64)}`;
export const SHA256_B = `sha256:${'b'.repeat(64)}`;
