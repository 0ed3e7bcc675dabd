import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { createEngine, sniffFormat } from '@c2pa-mesh/engine';
import { normalizeDomain, type ProofClaims } from '@c2pa-mesh/mc4p';
import { CliError, formatTable, write, writeJson, type CliIo } from '../io.js';

export type Mc4pProfile = 'minimal' | 'standard' | 'full';

export interface Mc4pVerifyOptions {
  domain: string;
  field?: string[];
  profile: Mc4pProfile;
  jwks?: string;
  /** PEM trust anchors for the C2PA check of the full profile (e.g. the mesh's c2pa-root.pem). */
  trustAnchors?: string;
  json?: boolean;
}

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

async function readJson(file: string, io: CliIo, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path.resolve(io.cwd, file), 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${what} ${file}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new CliError(`${what} ${file} is not JSON`);
  }
}

function parseFields(values: readonly string[]): Array<[string, string]> {
  return values.map((value) => {
    const at = value.indexOf('=');
    if (at <= 0) throw new CliError(`--field takes name=value (e.g. productId=gid://shopify/Product/1), got "${value}"`, 2);
    return [value.slice(0, at), value.slice(at + 1)];
  });
}

/**
 * `c2pa-mesh mc4p verify CERTIFICATE IMAGE --domain D`: Mintall's verification profiles, offline.
 * Minimal: the JWT proof against the cached JWKS, and the domain among the authorized ones.
 * Standard: also every --field against the context the proof binds. Full: also the image bytes,
 * which must be the certified asset (SHA-256) and carry a C2PA manifest that validates, checked
 * here by c2pa-rs. Nothing is fetched. Exit 1, with the reason, when a required check fails.
 */
export async function verifyProductCertificate(certificateFile: string, imageFile: string, options: Mc4pVerifyOptions, io: CliIo): Promise<number> {
  if (!['minimal', 'standard', 'full'].includes(options.profile)) throw new CliError(`--profile must be minimal, standard or full, got "${options.profile}"`, 2);
  if (!options.jwks) throw new CliError('--jwks is required: the JWKS file (GET /.well-known/jwks.json, cached) the proof is checked against; nothing is fetched', 2);
  const domain = normalizeDomain(options.domain);
  if (domain === undefined) throw new CliError(`--domain must be a host name such as merchant.example, got "${options.domain}"`, 2);
  const fields = parseFields(options.field ?? []);
  if (fields.length > 0 && options.profile === 'minimal') throw new CliError('--field needs --profile standard or full: the minimal profile checks no context', 2);

  const certificate = (await readJson(certificateFile, io, 'certificate')) as Record<string, any>;
  const jwks = (await readJson(options.jwks, io, 'JWKS')) as JSONWebKeySet;
  if (!jwks || !Array.isArray(jwks.keys)) throw new CliError(`${options.jwks} is not a JWKS (no "keys" array)`);
  const checks: Check[] = [];
  const check = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });

  // The proof: signature with a key of the JWKS, then the document against what it attests.
  let claims: ProofClaims['mc4p'] | undefined;
  const jwt = certificate?.proof?.jwt;
  if (certificate?.proof?.type !== 'JwtProof2020' || typeof jwt !== 'string') {
    check('proof', false, 'the certificate carries no JwtProof2020 proof (fetch it with ?full=true)');
  } else {
    try {
      const { payload, protectedHeader } = await jwtVerify(jwt, createLocalJWKSet(jwks), { algorithms: ['ES256', 'RS256'] });
      claims = (payload as ProofClaims).mc4p;
      const consistent = claims && claims.imageId === certificate.imageId && payload.sub === certificate.imageId;
      check('proof', Boolean(consistent), consistent ? `${protectedHeader.alg} signature by ${protectedHeader.kid} verifies` : 'the proof is about another image than the certificate names');
      if (!consistent) claims = undefined;
    } catch (error) {
      check('proof', false, `the JWT proof does not verify against ${options.jwks}: ${(error as Error).message}`);
    }
  }

  const authorized: string[] = claims?.authorizedDomains ?? [];
  check('domain', claims !== undefined && authorized.includes(domain), claims === undefined ? 'not checked: no verified proof' : authorized.includes(domain) ? `${domain} is authorized` : `${domain} is not among ${authorized.join(', ')}`);

  if (options.profile !== 'minimal') {
    for (const [name, value] of fields) {
      const bound = claims?.boundFields?.[name];
      check(`field ${name}`, bound !== undefined && bound === value, bound === undefined ? `the proof binds no field ${name}` : bound === value ? 'matches' : `the certificate is bound to another ${name}`);
    }
  }

  if (options.profile === 'full') {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(path.resolve(io.cwd, imageFile)));
    } catch (error) {
      throw new CliError(`cannot read image ${imageFile}: ${(error as Error).message}`);
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const certified = claims?.asset?.sha256;
    check('image bytes', certified !== undefined && sha256 === certified, certified === undefined ? 'not checked: no verified proof' : sha256 === certified ? 'the image is the certified asset (SHA-256)' : `the image's SHA-256 ${sha256} is not the certified asset's ${certified}`);
    const format = sniffFormat(bytes);
    if (!format) {
      check('c2pa', false, 'the image format is not one c2pa-rs reads');
    } else {
      const trustAnchorsPem = options.trustAnchors ? await readFile(path.resolve(io.cwd, options.trustAnchors), 'utf8') : undefined;
      const engine = createEngine({ threads: 1, warmupBytes: 0 });
      try {
        const report = await engine.read({ format, asset: bytes, ...(trustAnchorsPem ? { trustAnchorsPem } : {}) });
        if (!report) check('c2pa', false, 'the image carries no C2PA manifest');
        else {
          const valid = report.validationState !== 'Invalid';
          const sameManifest = claims === undefined || report.activeManifestLabel === claims.activeManifest;
          const first = report.errors.find((e) => e.code !== 'signingCredential.untrusted') ?? report.errors[0];
          check('c2pa', valid && sameManifest, !valid ? `C2PA validation: Invalid (${first?.code ?? 'no reason given'})` : !sameManifest ? `the active manifest ${report.activeManifestLabel} is not the certified one` : `C2PA validation: ${report.validationState}`);
        }
      } catch (error) {
        check('c2pa', false, `c2pa-rs could not read the image: ${(error as Error).message}`);
      } finally {
        await engine.close();
      }
    }
  }

  const verified = checks.every((c) => c.ok);
  if (options.json) writeJson(io, { verified, profile: options.profile, imageId: certificate?.imageId ?? '', domain, checks });
  else {
    write(io.stdout, formatTable(['CHECK', 'RESULT', 'DETAIL'], checks.map((c) => [c.name, c.ok ? 'ok' : 'FAILED', c.detail])));
    write(io.stdout, verified ? `verified (${options.profile} profile)` : `not verified (${options.profile} profile): ${checks.filter((c) => !c.ok).map((c) => c.detail).join('; ')}`);
  }
  return verified ? 0 : 1;
}
