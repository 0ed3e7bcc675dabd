import { readFileSync } from 'node:fs';
import { createClient, type Client, type Transport } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from '@connectrpc/connect-node';
import type { DescService } from '@bufbuild/protobuf';

export type Protocol = 'connect' | 'grpc' | 'grpc-web';

export interface ClientCredentials {
  caPath: string;
  certPath?: string;
  keyPath?: string;
  apiKey?: string;
}

/** A real network transport into a running mesh over TLS (mTLS when a certificate is given). */
export function meshTransport(url: string, credentials: ClientCredentials, protocol: Protocol = 'connect', httpVersion: '1.1' | '2' = '2'): Transport {
  const nodeOptions = {
    ca: readFileSync(credentials.caPath),
    ...(credentials.certPath ? { cert: readFileSync(credentials.certPath), key: readFileSync(credentials.keyPath!) } : {}),
  };
  const interceptors = credentials.apiKey
    ? [
        (next: any) => async (req: any) => {
          req.header.set('authorization', `Bearer ${credentials.apiKey}`);
          return next(req);
        },
      ]
    : [];
  if (protocol === 'grpc') return createGrpcTransport({ baseUrl: url, nodeOptions, interceptors });
  if (protocol === 'grpc-web') return createGrpcWebTransport({ baseUrl: url, httpVersion, nodeOptions, interceptors });
  return createConnectTransport({ baseUrl: url, httpVersion, nodeOptions, interceptors });
}

export function meshClient<S extends DescService>(service: S, url: string, credentials: ClientCredentials, protocol: Protocol = 'connect', httpVersion: '1.1' | '2' = '2'): Client<S> {
  return createClient(service, meshTransport(url, credentials, protocol, httpVersion));
}
