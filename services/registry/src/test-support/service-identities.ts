import { SERVICE_SCOPES, serviceSpiffeId, type Identity } from '@c2pa-mesh/auth';

/** A mesh service's identity, as the in-process clients present it. */
export function serviceIdentity(service: string): Identity {
  return { kind: 'SERVICE', id: serviceSpiffeId(service), serviceName: service, scopes: new Set(SERVICE_SCOPES[service]) };
}
