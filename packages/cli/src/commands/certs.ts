import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { connect, type ConnectionOptions } from '../connection.js';
import { CliError, formatTable, write, writeJson, type CliIo } from '../io.js';
import type { JsonOption } from './registry.js';

/** RFC 5280 CRLReason names, as people type them, to the codes the CA takes. */
const REVOCATION_REASONS: Record<string, number> = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  privilegeWithdrawn: 9,
  aACompromise: 10,
};

export interface IssueOptions extends ConnectionOptions, JsonOption {
  profile: string;
  commonName?: string;
  organization?: string;
  keyAlgorithm?: string;
  project?: string;
  days?: number;
  csr?: string;
  requireActivation?: boolean;
  sanUri?: string[];
  sanDns?: string[];
  sanIp?: string[];
  out?: string;
}

/** `certs issue`: from a CSR, or with a key the CA generates (written to --out when it returns one). */
export async function issueCertificate(options: IssueOptions, io: CliIo): Promise<number> {
  const csrPem = options.csr ? await readFile(path.resolve(io.cwd, options.csr), 'utf8') : '';
  const issued = await connect(options, io).certificateAuthority.issueCertificate({
    profile: options.profile.toUpperCase(),
    commonName: options.commonName ?? '',
    organization: options.organization ?? '',
    keyAlgorithm: (options.keyAlgorithm ?? '').toUpperCase(),
    projectId: options.project ?? '',
    validityDays: options.days ?? 0,
    csrPem,
    requireActivation: Boolean(options.requireActivation),
    sanUris: options.sanUri ?? [],
    sanDns: options.sanDns ?? [],
    sanIps: options.sanIp ?? [],
  });
  const certificate = issued.certificate!;
  const written: string[] = [];
  if (options.out) {
    const base = path.resolve(io.cwd, options.out);
    await writeFile(`${base}.pem`, certificate.certificatePem + certificate.chainPem);
    written.push(`${base}.pem`);
    if (issued.privateKeyPem) {
      await writeFile(`${base}-key.pem`, issued.privateKeyPem, { mode: 0o600 });
      written.push(`${base}-key.pem`);
    }
  } else if (issued.privateKeyPem && !options.json) {
    throw new CliError('the CA generated a private key it returns only once; pass --out to write it (or --json to print it)');
  }
  if (options.json) writeJson(io, { certificate, privateKeyPem: issued.privateKeyPem || undefined, files: written });
  else {
    write(io.stdout, formatTable(['CERTIFICATE', 'PROFILE', 'SUBJECT', 'STATUS', 'NOT AFTER'], [[certificate.certificateId, certificate.profile, certificate.subject, certificate.status, certificate.notAfter]]));
    for (const file of written) write(io.stdout, `wrote ${path.relative(io.cwd, file)}`);
  }
  return 0;
}

export async function listCertificates(options: ConnectionOptions & JsonOption & { profile?: string; status?: string; project?: string }, io: CliIo): Promise<number> {
  const ca = connect(options, io).certificateAuthority;
  const certificates = [];
  let pageToken = '';
  do {
    const page = await ca.listCertificates({ profile: options.profile?.toUpperCase() ?? '', status: options.status?.toUpperCase() ?? '', projectId: options.project ?? '', pageSize: 500, pageToken });
    certificates.push(...page.certificates);
    pageToken = page.nextPageToken;
  } while (pageToken !== '');
  if (options.json) writeJson(io, certificates);
  else {
    const rows = certificates.map((c) => [c.certificateId, c.profile, c.commonName, c.status, c.keyAlgorithm, c.notAfter, c.projectId]);
    write(io.stdout, formatTable(['CERTIFICATE', 'PROFILE', 'COMMON NAME', 'STATUS', 'KEY', 'NOT AFTER', 'PROJECT'], rows));
  }
  return 0;
}

export async function revokeCertificate(certificateId: string, options: ConnectionOptions & JsonOption & { reason?: string }, io: CliIo): Promise<number> {
  const raw = options.reason ?? 'unspecified';
  const reason = /^\d+$/.test(raw) ? Number(raw) : REVOCATION_REASONS[raw];
  if (reason === undefined) throw new CliError(`--reason is a CRLReason code or one of ${Object.keys(REVOCATION_REASONS).join(', ')}`, 2);
  const { certificate } = await connect(options, io).certificateAuthority.revokeCertificate({ certificateId, reason });
  if (options.json) writeJson(io, certificate);
  else write(io.stdout, `certificate ${certificateId} revoked at ${certificate?.revokedAt} (reason ${raw})`);
  return 0;
}

/** `certs chain`: the CA certificates, PEM on stdout, for relying parties and trust stores. */
export async function certificateChain(options: ConnectionOptions & JsonOption & { profile?: string; certificate?: string }, io: CliIo): Promise<number> {
  const chain = await connect(options, io).certificateAuthority.getCertificateChain({ profile: options.profile?.toUpperCase() ?? '', certificateId: options.certificate ?? '' });
  if (options.json) writeJson(io, { chainPem: chain.chainPem, rootPem: chain.rootPem });
  else io.stdout.write(chain.chainPem);
  return 0;
}
