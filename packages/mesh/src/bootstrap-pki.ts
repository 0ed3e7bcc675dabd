import { existsSync } from 'node:fs';
import { mkdir, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ADMIN_SPIFFE_ID, serviceSpiffeId } from '@c2pa-mesh/auth';
import { SERVICE_NAMES, type MeshConfig, type ServiceName } from '@c2pa-mesh/config';
import {
  createFileSigner,
  encryptPrivateKey,
  generateKeyPair,
  loadKeyEncryptionKey,
  writePrivateKeyPem,
  type KeySigner,
} from '@c2pa-mesh/key-custody';
import { issueCertificate, parseCertificate, toPem, type CertificateProfile, type DistinguishedName } from '@c2pa-mesh/pki';
import { type Database, findCertificateBySerialAndKey, findDefaultSigner, newId } from '@c2pa-mesh/storage';
import { recordCertificate } from '@c2pa-mesh/service-certificate-authority';
import type { Logger } from 'pino';

/** A certificate whose key the mesh uses through the key-custody interface. */
export interface PkiEntity {
  certificateId: string;
  der: Uint8Array;
  pem: string;
  signer: KeySigner;
  certificatePath: string;
  privateKeyPath: string;
}

export interface MeshPki {
  dir: string;
  meshCa: PkiEntity;
  /** The TLS listener's certificate. */
  server: PkiEntity;
  admin: PkiEntity;
  services: Record<ServiceName, PkiEntity>;
  c2paRoot: PkiEntity;
  c2paIntermediate: PkiEntity;
  ocspResponder: PkiEntity;
  timeStampAuthority: PkiEntity;
  /** certificates.id of the mesh-wide default C2PA signer (key held by the CA, sealed in the database). */
  defaultSignerId: string;
  keyEncryptionKey: Uint8Array;
  /** Intermediate + root, PEM: what relying parties download as the chain. */
  c2paChainPem: string;
}

const ORGANIZATION = 'c2pa-mesh';
const YEAR = 365;

async function readText(file: string): Promise<string> {
  return readFile(file, 'utf8');
}

/** Only one process bootstraps a data dir at a time; others wait and then reuse what it made. */
async function withBootstrapLock<T>(dir: string, work: () => Promise<T>): Promise<T> {
  const lock = path.join(dir, '.bootstrap.lock');
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const handle = await open(lock, 'wx', 0o600);
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = Date.now() - (await stat(lock).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
      if (age > 60_000) await rm(lock, { force: true });
      else if (Date.now() > deadline) throw new Error(`another process holds ${lock}; remove it if no mesh process is starting`);
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  try {
    return await work();
  } finally {
    await rm(lock, { force: true });
  }
}

interface EntitySpec {
  name: string;
  profile: CertificateProfile;
  subject: DistinguishedName;
  issuer?: PkiEntity;
  validityDays: number;
  san?: { dns?: string[]; ip?: string[]; uri?: string[] };
  ocspUrl?: string;
  caIssuersUrl?: string;
  crlUrl?: string;
  /** Reissue an existing certificate when this says it no longer fits (e.g. a new MESH_HOST). */
  stale?: (info: ReturnType<typeof parseCertificate>) => boolean;
}

/**
 * Creates on first start (and reuses afterwards) the mesh PKI and the C2PA PKI in
 * `<dataDir>/pki`, and records every certificate in the database. Private keys are PKCS#8 PEM
 * files with mode 0600 (CA, OCSP, TSA and mTLS keys, used through file signers) or, for C2PA
 * signing keys the CA keeps, sealed with the key-encryption key in the database.
 */
export async function bootstrapPki(options: { config: MeshConfig; db: Database; logger: Logger }): Promise<MeshPki> {
  const { config, db, logger } = options;
  const dir = path.join(config.dataDir, 'pki');
  await mkdir(path.join(dir, 'services'), { recursive: true, mode: 0o700 });

  return withBootstrapLock(dir, async () => {
    const keyEncryptionKey = await loadKeyEncryptionKey({ dataDir: config.dataDir });

    async function entity(spec: EntitySpec): Promise<PkiEntity> {
      const certificatePath = path.join(dir, `${spec.name}.pem`);
      const privateKeyPath = path.join(dir, `${spec.name}-key.pem`);
      let pem: string | undefined;
      let signer: KeySigner | undefined;
      if (existsSync(certificatePath) && existsSync(privateKeyPath)) {
        pem = await readText(certificatePath);
        const info = parseCertificate(pem);
        if (spec.stale?.(info) || info.notAfter.getTime() < Date.now()) {
          logger.info({ certificate: spec.name }, 'reissuing certificate that no longer fits the configuration');
          pem = undefined;
        } else {
          signer = await createFileSigner(privateKeyPath);
        }
      }
      if (!pem || !signer) {
        const generated = await generateKeyPair('ES256');
        const issued = await issueCertificate({
          profile: spec.profile,
          subject: spec.subject,
          subjectPublicKeySpki: generated.signer.publicKeySpki,
          issuer: spec.issuer ? { certificateDer: spec.issuer.der, signer: spec.issuer.signer } : { selfSigned: generated.signer },
          validityDays: spec.validityDays,
          san: spec.san,
          ocspUrl: spec.ocspUrl,
          caIssuersUrl: spec.caIssuersUrl,
          crlUrl: spec.crlUrl,
        });
        // Key first: a certificate on disk always has its key beside it.
        await writePrivateKeyPem(privateKeyPath, generated.privateKeyPkcs8);
        await writeFile(certificatePath, issued.pem, { mode: 0o644 });
        pem = issued.pem;
        signer = generated.signer;
        logger.info({ certificate: spec.name, profile: spec.profile }, 'certificate created');
      }
      const info = parseCertificate(pem);
      const existing = await findCertificateBySerialAndKey(db, info.serialNumberHex, info.spkiSha256Hex);
      const row =
        existing ??
        (await recordCertificate(db, {
          der: info.der,
          profile: spec.profile,
          issuerId: spec.issuer?.certificateId ?? null,
          status: 'ACTIVE',
          chainPem: spec.profile === 'C2PA_SIGNING' || spec.profile === 'OCSP_RESPONDER' || spec.profile === 'TSA' ? spec.issuer?.pem ?? '' : '',
          keyHeldByCa: false,
        }));
      return { certificateId: row.id, der: info.der, pem, signer, certificatePath, privateKeyPath };
    }

    const pkiUrl = config.pkiPublicUrl;
    const meshCa = await entity({ name: 'mesh-ca', profile: 'MESH_CA', subject: { commonName: 'c2pa-mesh Mesh CA', organization: ORGANIZATION }, validityDays: 10 * YEAR });

    const hostNames = new Set(['localhost']);
    const hostIps = new Set(['127.0.0.1', '::1']);
    for (const host of [config.host, config.pkiHttpHost, ...config.serverNames]) {
      if (host === '0.0.0.0' || host === '::') continue;
      if (/^[\d.]+$/.test(host) || host.includes(':')) hostIps.add(host);
      else hostNames.add(host);
    }
    const server = await entity({
      name: 'server',
      profile: 'MESH_SERVER',
      subject: { commonName: 'c2pa-mesh server', organization: ORGANIZATION },
      issuer: meshCa,
      validityDays: 2 * YEAR,
      san: { dns: [...hostNames], ip: [...hostIps] },
      stale: (info) => [...hostNames].some((n) => !info.sanDns.includes(n)) || [...hostIps].some((ip) => !info.sanIps.some((s) => s === ip || s.replace(/^0+:/, '') === ip)),
    });
    const admin = await entity({
      name: 'admin',
      profile: 'MESH_CLIENT',
      subject: { commonName: 'c2pa-mesh admin', organization: ORGANIZATION },
      issuer: meshCa,
      validityDays: 2 * YEAR,
      san: { uri: [ADMIN_SPIFFE_ID] },
    });
    const services = {} as Record<ServiceName, PkiEntity>;
    for (const service of SERVICE_NAMES) {
      services[service] = await entity({
        name: `services/${service}`,
        profile: 'MESH_CLIENT',
        subject: { commonName: `c2pa-mesh ${service} service`, organization: ORGANIZATION },
        issuer: meshCa,
        validityDays: 2 * YEAR,
        san: { uri: [serviceSpiffeId(service)] },
      });
    }

    const c2paRoot = await entity({ name: 'c2pa-root', profile: 'ROOT_CA', subject: { commonName: 'c2pa-mesh C2PA Root CA', organization: ORGANIZATION }, validityDays: 20 * YEAR });
    const c2paIntermediate = await entity({
      name: 'c2pa-intermediate',
      profile: 'INTERMEDIATE_CA',
      subject: { commonName: 'c2pa-mesh C2PA Signing CA', organization: ORGANIZATION },
      issuer: c2paRoot,
      validityDays: 10 * YEAR,
      crlUrl: `${pkiUrl}/ca/root.crl`,
      caIssuersUrl: `${pkiUrl}/ca/root.pem`,
    });
    const ocspResponder = await entity({
      name: 'ocsp-responder',
      profile: 'OCSP_RESPONDER',
      subject: { commonName: 'c2pa-mesh OCSP Responder', organization: ORGANIZATION },
      issuer: c2paIntermediate,
      validityDays: YEAR,
    });
    const timeStampAuthority = await entity({
      name: 'tsa',
      profile: 'TSA',
      subject: { commonName: 'c2pa-mesh Time-Stamp Authority', organization: ORGANIZATION },
      issuer: c2paIntermediate,
      validityDays: 5 * YEAR,
    });
    const c2paChainPem = `${c2paIntermediate.pem.trim()}\n${c2paRoot.pem.trim()}\n`;
    await writeFile(path.join(dir, 'c2pa-chain.pem'), c2paChainPem, { mode: 0o644 });

    let defaultSigner = await findDefaultSigner(db);
    if (!defaultSigner) {
      const id = newId('crt');
      const generated = await generateKeyPair('ES256');
      const issued = await issueCertificate({
        profile: 'C2PA_SIGNING',
        subject: { commonName: 'c2pa-mesh default signer', organization: ORGANIZATION },
        subjectPublicKeySpki: generated.signer.publicKeySpki,
        issuer: { certificateDer: c2paIntermediate.der, signer: c2paIntermediate.signer },
        validityDays: 2 * YEAR,
        ocspUrl: `${pkiUrl}/ocsp`,
        caIssuersUrl: `${pkiUrl}/ca/intermediate.pem`,
        crlUrl: `${pkiUrl}/ca/crl`,
      });
      defaultSigner = await recordCertificate(db, {
        id,
        der: issued.der,
        profile: 'C2PA_SIGNING',
        issuerId: c2paIntermediate.certificateId,
        status: 'ACTIVE',
        chainPem: toPem(c2paIntermediate.der),
        keyHeldByCa: true,
        encryptedPrivateKey: encryptPrivateKey(generated.privateKeyPkcs8, keyEncryptionKey, id),
        isDefaultSigner: true,
      });
      logger.info({ certificateId: id }, 'default C2PA signing certificate created');
    }

    return {
      dir,
      meshCa,
      server,
      admin,
      services,
      c2paRoot,
      c2paIntermediate,
      ocspResponder,
      timeStampAuthority,
      defaultSignerId: defaultSigner.id,
      keyEncryptionKey,
      c2paChainPem,
    };
  });
}
