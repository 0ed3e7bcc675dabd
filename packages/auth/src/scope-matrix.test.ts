import { create, type DescMethod, type DescMethodStreaming, type DescMethodUnary, type DescService } from '@bufbuild/protobuf';
import { Code, ConnectError, createClient, type Transport } from '@connectrpc/connect';
import { createInProcessTransport } from '@c2pa-mesh/clients';
import { ADMIN_IDENTITY, createTestMesh, type TestMesh } from '@c2pa-mesh/mesh/testing';
import { CertificateAuthorityService, ProductCertificateService, RegistryService, ServerReflection, SigningService, VerificationService, reflectionV1 } from '@c2pa-mesh/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasScope, type Identity } from './identity.js';
import { METHOD_SCOPES, SCOPES, SERVICE_SCOPES, type Scope } from './scopes.js';

const SERVICES: DescService[] = [SigningService, VerificationService, CertificateAuthorityService, RegistryService, ProductCertificateService];
const METHODS = SERVICES.flatMap((service) => service.methods.map((method) => ({ operation: `${service.typeName}/${method.name}`, method })));

/** Calls any method with an empty request (one empty message for streams); the code it ends with. */
async function outcome(transport: Transport, method: DescMethod, headers: Record<string, string> = {}): Promise<Code | 'ok'> {
  const signal = AbortSignal.timeout(30_000);
  try {
    if (method.methodKind === 'unary') {
      await transport.unary(method as DescMethodUnary, signal, undefined, headers, create(method.input), undefined);
    } else {
      async function* one() {
        yield create(method.input);
      }
      const res = await transport.stream(method as DescMethodStreaming, signal, undefined, headers, one(), undefined);
      for await (const _ of res.message) {
        // drain
      }
    }
    return 'ok';
  } catch (err) {
    return ConnectError.from(err).code;
  }
}

function admitted(code: Code | 'ok'): boolean {
  return code !== Code.PermissionDenied && code !== Code.Unauthenticated;
}

/** What METHOD_SCOPES says for a caller holding `scopes`. */
function expectedAdmitted(operation: string, scopes: readonly Scope[]): boolean {
  const requirement = METHOD_SCOPES[operation];
  if (requirement === 'public' || requirement === 'authenticated') return true;
  const identity: Identity = { kind: 'API_KEY', id: 'matrix', scopes: new Set(scopes) };
  return requirement.some((scope) => hasScope(identity, scope));
}

describe(`scope matrix over every RPC of the mesh's services on ${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}`, () => {
  let mesh: TestMesh;
  const keys = new Map<string, string>();
  beforeAll(async () => {
    mesh = await createTestMesh();
    const admin = createClient(RegistryService, mesh.transport(ADMIN_IDENTITY));
    const { projectId } = await admin.createProject({ name: 'Scope matrix' });
    for (const scope of SCOPES) keys.set(scope, (await admin.createApiKey({ projectId, name: `only ${scope}`, scopes: [scope] })).key);
  });
  afterAll(async () => {
    await mesh?.close();
  });

  it('names the scope of every method', () => {
    const missing = METHODS.filter(({ operation }) => METHOD_SCOPES[operation] === undefined).map((m) => m.operation);
    expect(missing).toEqual([]);
    // Only health checks, reflection (which describes the public API), signing in and applying go without an identity.
    const signIn = [
      ...['Register', 'VerifyEmail', 'ResendVerification', 'Login', 'Refresh', 'Logout', 'ForgotPassword', 'ResetPassword', 'StartOidcSignIn', 'FinishOidcSignIn', 'StartDeviceLogin', 'PollDeviceLogin'].map((m) => `c2pamesh.account.v1.AccountService/${m}`),
      ...['SubmitApplication', 'GetApplication'].map((m) => `c2pamesh.onboarding.v1.OnboardingService/${m}`),
    ];
    const publicOnes = Object.entries(METHOD_SCOPES).filter(([, r]) => r === 'public').map(([op]) => op);
    expect(publicOnes.filter((op) => !op.startsWith('grpc.health.v1.Health/') && !op.startsWith('grpc.reflection.v1.ServerReflection/')).sort()).toEqual(signIn.sort());
  });

  for (const scope of SCOPES) {
    it(`an API key with only "${scope}" is refused exactly where METHOD_SCOPES requires another scope`, async () => {
      const transport = mesh.transport();
      const mismatches: string[] = [];
      for (const { operation, method } of METHODS) {
        const code = await outcome(transport, method, { authorization: `Bearer ${keys.get(scope)}` });
        const expected = expectedAdmitted(operation, [scope]);
        if (admitted(code) !== expected || (!expected && code !== Code.PermissionDenied)) {
          mismatches.push(`${operation}: got ${typeof code === 'number' ? Code[code] : code}, expected ${expected ? 'admitted' : 'PermissionDenied'}`);
        }
      }
      expect(mismatches).toEqual([]);
    });
  }

  for (const [service, scopes] of Object.entries(SERVICE_SCOPES)) {
    it(`the ${service} service identity gets what its calls need and nothing more`, async () => {
      const transport = mesh.transport({ kind: 'SERVICE', id: `spiffe://c2pa-mesh/service/${service}`, serviceName: service, scopes: new Set(scopes) });
      const mismatches: string[] = [];
      for (const { operation, method } of METHODS) {
        const code = await outcome(transport, method);
        if (admitted(code) !== expectedAdmitted(operation, scopes)) mismatches.push(`${operation}: got ${typeof code === 'number' ? Code[code] : code}`);
      }
      expect(mismatches).toEqual([]);
    });
  }

  it('reflection answers a caller without any credential, and leaves no audit event (it describes the public API only)', async () => {
    const transport = createInProcessTransport({ routes: mesh.routes, interceptors: mesh.interceptors, clientIp: '198.51.100.250' });
    async function* listServices() {
      yield create(reflectionV1.ServerReflectionRequestSchema, { messageRequest: { case: 'listServices', value: '' } });
    }
    const res = await transport.stream(ServerReflection.method.serverReflectionInfo, AbortSignal.timeout(30_000), undefined, undefined, listServices(), undefined);
    const names: string[] = [];
    for await (const message of res.message) {
      if (message.messageResponse.case === 'listServicesResponse') names.push(...message.messageResponse.value.service.map((s) => s.name));
    }
    expect(names).toEqual(expect.arrayContaining([SigningService.typeName, RegistryService.typeName, ServerReflection.typeName]));
    const events = await mesh.db.selectFrom('audit_events').select('operation').where('client_ip', '=', '198.51.100.250').execute();
    expect(events).toEqual([]);
  });

  it('a caller without any credential is unauthenticated everywhere', async () => {
    const codes = new Set<Code | 'ok'>();
    let n = 0;
    for (const { method } of METHODS) {
      // A fresh address per call: anonymous calls are rate limited per client IP.
      const transport = createInProcessTransport({ routes: mesh.routes, interceptors: mesh.interceptors, clientIp: `198.51.100.${++n}` });
      codes.add(await outcome(transport, method));
    }
    expect([...codes]).toEqual([Code.Unauthenticated]);
  });
});
