import { invalidArgument } from '@c2pa-mesh/errors';
import type { KeySigner } from '@c2pa-mesh/key-custody';
import { signatureAlgorithmIdentifier } from './algorithms.js';
import { readCertificateFields, subjectKeyIdentifierOf } from './certificate-fields.js';
import {
  DerError,
  EMPTY,
  bitString,
  boolean,
  enumerated,
  explicit,
  implicitPrimitive,
  integer,
  octetString,
  oid,
  sequence,
  serialMagnitudeFromHex,
  x509Time,
} from './der.js';
import { OID } from './oids.js';
import { checkRevocationReason } from './ocsp-responder.js';

export interface CrlEntry {
  serialNumberHex: string;
  revokedAt: Date;
  /** RFC 5280 CRLReason; 0 (unspecified) and absent both leave the entry extension out. */
  reason?: number;
}

export interface BuildCrlOptions {
  issuerCertificateDer: Uint8Array;
  signer: KeySigner;
  entries: CrlEntry[];
  thisUpdate: Date;
  nextUpdate: Date;
  crlNumber: bigint;
}

function extension(extnId: string, value: Uint8Array, critical = false): Uint8Array {
  return sequence(oid(extnId), critical ? boolean(true) : EMPTY, octetString(value));
}

/**
 * A v2 CRL (RFC 5280 §5) with authorityKeyIdentifier, cRLNumber and per-entry reason codes, signed
 * through the CA's KeySigner. Encoded with the same DER writer as OCSP responses: pkijs only signs
 * CRLs with WebCrypto keys and keeps their TBS encoder internal.
 */
export async function buildCrl(options: BuildCrlOptions): Promise<Uint8Array> {
  const issuer = readCertificateFields(options.issuerCertificateDer);
  if (!Buffer.from(options.signer.publicKeySpki).equals(Buffer.from(issuer.subjectPublicKeySpki))) {
    throw invalidArgument('the CRL signer\'s key does not match the issuer certificate');
  }
  if (!(options.nextUpdate > options.thisUpdate)) throw invalidArgument('nextUpdate must be later than thisUpdate');
  if (typeof options.crlNumber !== 'bigint' || options.crlNumber < 0n || options.crlNumber >= 1n << 159n) {
    throw invalidArgument('crlNumber must be a non-negative integer of at most 20 bytes (RFC 5280 §5.2.3)');
  }
  const entries = options.entries.map((entry) => {
    let serial: Uint8Array;
    try {
      serial = serialMagnitudeFromHex(entry.serialNumberHex);
    } catch (cause) {
      throw invalidArgument((cause as DerError).message, { cause });
    }
    checkRevocationReason(entry.reason);
    const reason = entry.reason ? sequence(extension(OID.crlReason, enumerated(entry.reason))) : EMPTY;
    return sequence(integer(serial), x509Time(entry.revokedAt), reason);
  });
  const signatureAlgorithm = signatureAlgorithmIdentifier(options.signer.algorithm);
  const tbsCertList = sequence(
    integer(1), // v2
    signatureAlgorithm,
    issuer.subjectName,
    x509Time(options.thisUpdate),
    x509Time(options.nextUpdate),
    entries.length > 0 ? sequence(...entries) : EMPTY,
    explicit(
      0,
      sequence(
        extension(OID.authorityKeyIdentifier, sequence(implicitPrimitive(0, subjectKeyIdentifierOf(issuer)))),
        extension(OID.crlNumber, integer(options.crlNumber)),
      ),
    ),
  );
  const signature = await options.signer.sign(tbsCertList, { ecdsaEncoding: 'der' });
  return sequence(tbsCertList, signatureAlgorithm, bitString(signature));
}
