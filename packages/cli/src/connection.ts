import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConnectError, createClient, type Client, type Interceptor } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { CertificateAuthorityService, RegistryService, SigningService, VerificationService } from '@c2pa-mesh/proto';
import { inFlagNames } from './flag-names.js';
import { CliError, type CliIo } from './io.js';
import { storedLogin } from './credentials.js';
import { currentAccessToken } from './commands/login.js';

/** How to reach the mesh; every command takes these options. */
export interface ConnectionOptions {
  url?: string;
  ca?: string;
  cert?: string;
  key?: string;
  apiKey?: string;
  dataDir?: string;
  /** Request field → the CLI's name for it (`flagNamesOf`), so that the mesh's messages name flags. */
  flagNames?: ReadonlyMap<string, string>;
}

export interface MeshConnection {
  url: string;
  /** How the CLI authenticates, for messages: the admin certificate, a given one, or an API key. */
  credential: string;
  signing: Client<typeof SigningService>;
  verification: Client<typeof VerificationService>;
  certificateAuthority: Client<typeof CertificateAuthorityService>;
  registry: Client<typeof RegistryService>;
}

export const DEFAULT_URL = 'https://127.0.0.1:8443';

function readPem(file: string, what: string, hint: string): Buffer {
  try {
    return readFileSync(file);
  } catch (cause) {
    throw new CliError(`cannot read ${what} at ${file} (${(cause as NodeJS.ErrnoException).code ?? 'error'}); ${hint}`);
  }
}

/** The mesh's error messages with the request fields they name put as the command's flags. */
function inCliWords(flagNames: ReadonlyMap<string, string>): Interceptor {
  return (next) => async (req) => {
    try {
      return await next(req);
    } catch (error) {
      const failure = ConnectError.from(error);
      const message = inFlagNames(failure.rawMessage, flagNames);
      if (message === failure.rawMessage) throw error;
      const translated = new ConnectError(message, failure.code, failure.metadata, undefined, failure.cause);
      translated.details = failure.details;
      throw translated;
    }
  };
}

/**
 * Connect over HTTP/2 and TLS, trusting the mesh CA. With an API key the key goes in every
 * request's Authorization header; otherwise the CLI presents a client certificate, by default
 * the admin certificate the mesh wrote into its data dir on first start.
 */
const PKI_HINT = 'start the mesh once (npm start) to create it, set MESH_DATA_DIR or --data-dir, or pass --ca/--cert/--key';

/** The mesh's URL and the CA to trust for it. */
export function meshTarget(options: ConnectionOptions, io: CliIo): { url: string; ca: Buffer; pki: (name: string) => string } {
  const dataDir = path.resolve(io.cwd, options.dataDir ?? io.env.MESH_DATA_DIR ?? '.data');
  const pki = (name: string) => path.join(dataDir, 'pki', name);
  const url = (options.url ?? io.env.C2PA_MESH_URL ?? DEFAULT_URL).replace(/\/+$/, '');
  if (!/^https:\/\//.test(url)) throw new CliError(`--url must be an https:// URL (the mesh listens on TLS), got "${url}"`, 2);
  const ca = readPem(options.ca ? path.resolve(io.cwd, options.ca) : pki('mesh-ca.pem'), 'the mesh CA certificate', PKI_HINT);
  return { url, ca, pki };
}

export function connect(options: ConnectionOptions, io: CliIo): MeshConnection {
  const { url, ca, pki } = meshTarget(options, io);
  const apiKey = options.apiKey ?? io.env.C2PA_MESH_API_KEY;
  const hint = PKI_HINT;
  // After `c2pa-mesh login`, commands act as that person, unless given an API key or a certificate.
  const login = !apiKey && !options.cert ? storedLogin(io, url) : undefined;

  let clientCertificate: { cert: Buffer; key: Buffer } | undefined;
  let credential = login ? `login ${login.email}` : 'API key';
  if (!login && (!apiKey || options.cert)) {
    const certFile = options.cert ? path.resolve(io.cwd, options.cert) : pki('admin.pem');
    const keyFile = options.key ? path.resolve(io.cwd, options.key) : options.cert ? undefined : pki('admin-key.pem');
    if (!keyFile) throw new CliError('--cert needs --key (the client certificate\'s private key)', 2);
    clientCertificate = { cert: readPem(certFile, 'the client certificate', hint), key: readPem(keyFile, 'the client certificate\'s key', hint) };
    credential = options.cert ? `client certificate ${certFile}` : 'admin certificate';
  }
  const withApiKey: Interceptor = (next) => (req) => {
    req.header.set('authorization', `Bearer ${apiKey}`);
    return next(req);
  };
  const withLogin: Interceptor = (next) => async (req) => {
    req.header.set('authorization', `Bearer ${await currentAccessToken(options, io, url)}`);
    return next(req);
  };
  const transport = createConnectTransport({
    baseUrl: url,
    httpVersion: '2',
    useBinaryFormat: true,
    nodeOptions: { ca, ...clientCertificate },
    interceptors: [...(login ? [withLogin] : apiKey ? [withApiKey] : []), ...(options.flagNames ? [inCliWords(options.flagNames)] : [])],
  });
  return {
    url,
    credential,
    signing: createClient(SigningService, transport),
    verification: createClient(VerificationService, transport),
    certificateAuthority: createClient(CertificateAuthorityService, transport),
    registry: createClient(RegistryService, transport),
  };
}
