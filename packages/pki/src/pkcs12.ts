import { createHash } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { invalidArgument } from '@c2pa-mesh/errors';
import { readCertificateFields } from './certificate-fields.js';
import { OID } from './oids.js';

export interface BuildPkcs12Options {
  certificateDer: Uint8Array;
  /** Intermediates (leaf excluded), stored beside the certificate. */
  chainDer: Uint8Array[];
  privateKeyPkcs8: Uint8Array;
  password: string;
  /** Label shown by key stores; default: none. */
  friendlyName?: string;
}

/**
 * The algorithms OpenSSL 3 uses by default, so `openssl pkcs12`, browsers and OS key stores read
 * it: PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) for the key bag and the certificate safe, and a
 * SHA-256 MAC.
 */
const PBKDF2_ITERATIONS = 100_000;
/** The PKCS#12 MAC key derivation is PKCS#12's own KDF, run by pkijs in JavaScript: OpenSSL's default count. */
const MAC_ITERATIONS = 2048;
const MIN_PASSWORD_LENGTH = 8;

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

function bagAttributes(friendlyName: string | undefined, localKeyId: Uint8Array): pkijs.Attribute[] {
  const attributes = [
    new pkijs.Attribute({ type: OID.localKeyId, values: [new asn1js.OctetString({ valueHex: toArrayBuffer(localKeyId) })] }),
  ];
  if (friendlyName) attributes.unshift(new pkijs.Attribute({ type: OID.friendlyName, values: [new asn1js.BmpString({ value: friendlyName })] }));
  return attributes;
}

/** A password-protected PKCS#12 file holding a certificate, its chain and its private key. */
export async function buildPkcs12(options: BuildPkcs12Options): Promise<Uint8Array> {
  if (typeof options.password !== 'string' || options.password.length < MIN_PASSWORD_LENGTH) {
    throw invalidArgument(`the PKCS#12 password must be at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  const certificateFields = readCertificateFields(options.certificateDer);
  const chain = options.chainDer.map((der) => readCertificateFields(der).der);
  let privateKey: pkijs.PrivateKeyInfo;
  try {
    privateKey = pkijs.PrivateKeyInfo.fromBER(toArrayBuffer(options.privateKeyPkcs8));
  } catch (cause) {
    throw invalidArgument('the private key is not a DER PKCS#8 PrivateKeyInfo', { cause });
  }
  const password = toArrayBuffer(new TextEncoder().encode(options.password));
  // localKeyID pairs the key with its certificate; SHA-1 of the certificate, as OpenSSL sets it.
  const localKeyId = createHash('sha1').update(certificateFields.der).digest();
  const encryption = {
    password,
    contentEncryptionAlgorithm: { name: 'AES-CBC', length: 256 },
    hmacHashAlgorithm: 'SHA-256',
    iterationCount: PBKDF2_ITERATIONS,
  };

  const keyBag = new pkijs.PKCS8ShroudedKeyBag({ parsedValue: privateKey });
  await keyBag.makeInternalValues(encryption);

  const certificateBag = (der: Uint8Array, attributes?: pkijs.Attribute[]) =>
    new pkijs.SafeBag({
      bagId: OID.certBag,
      bagValue: new pkijs.CertBag({ parsedValue: pkijs.Certificate.fromBER(toArrayBuffer(der)) }),
      ...(attributes ? { bagAttributes: attributes } : {}),
    });

  const pfx = new pkijs.PFX({
    parsedValue: {
      integrityMode: 0, // password-based integrity (MAC)
      authenticatedSafe: new pkijs.AuthenticatedSafe({
        parsedValue: {
          safeContents: [
            {
              privacyMode: 1, // certificates in a password-encrypted safe
              value: new pkijs.SafeContents({
                safeBags: [
                  certificateBag(certificateFields.der, bagAttributes(options.friendlyName, localKeyId)),
                  ...chain.map((der) => certificateBag(der)),
                ],
              }),
            },
            {
              privacyMode: 0, // the key bag is shrouded itself
              value: new pkijs.SafeContents({
                safeBags: [
                  new pkijs.SafeBag({
                    bagId: OID.pkcs8ShroudedKeyBag,
                    bagValue: keyBag,
                    bagAttributes: bagAttributes(options.friendlyName, localKeyId),
                  }),
                ],
              }),
            },
          ],
        },
      }),
    },
  });
  await pfx.parsedValue!.authenticatedSafe!.makeInternalValues({ safeContents: [encryption, {}] });
  await pfx.makeInternalValues({
    password,
    iterations: MAC_ITERATIONS,
    pbkdf2HashAlgorithm: 'SHA-256',
    hmacHashAlgorithm: 'SHA-256',
  });
  return new Uint8Array(pfx.toSchema().toBER(false));
}
