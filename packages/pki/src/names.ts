import * as asn1js from 'asn1js';
import { invalidArgument } from '@c2pa-mesh/errors';
import { TAG, children, contentOf, readOid, readSingle } from './der.js';
import { OID } from './oids.js';

export interface DistinguishedName {
  commonName: string;
  organization?: string;
  organizationalUnit?: string;
  country?: string;
}

/** A name read from a certificate or CSR: the RFC 4514 string plus the attributes the mesh uses. */
export interface NameInfo {
  /** RFC 4514 form, most specific first: `CN=…,OU=…,O=…,C=…`. */
  text: string;
  commonName?: string;
  organization?: string;
  organizationalUnit?: string;
  country?: string;
}

/** Upper bounds from RFC 5280 Appendix A (ub-common-name and friends). */
const MAX_LENGTH = { commonName: 64, organization: 64, organizationalUnit: 64 } as const;

function checkAttribute(field: keyof typeof MAX_LENGTH, value: string | undefined): void {
  if (value === undefined) return;
  if (value.trim() === '' || value !== value.trim()) {
    throw invalidArgument(`subject ${field} must be non-empty and without leading or trailing spaces`);
  }
  if ([...value].length > MAX_LENGTH[field]) {
    throw invalidArgument(`subject ${field} must be at most ${MAX_LENGTH[field]} characters`);
  }
  if (/[\u0000-\u001f\u007f]/.test(value)) throw invalidArgument(`subject ${field} must not contain control characters`);
}

export function checkDistinguishedName(name: DistinguishedName): void {
  if (typeof name?.commonName !== 'string') throw invalidArgument('subject commonName is required');
  checkAttribute('commonName', name.commonName);
  checkAttribute('organization', name.organization);
  checkAttribute('organizationalUnit', name.organizationalUnit);
  if (name.country !== undefined && !/^[A-Z]{2}$/.test(name.country)) {
    throw invalidArgument('subject country must be a two-letter ISO 3166 code in capitals, e.g. "DE"');
  }
}

/**
 * DER Name with one attribute per RDN, ordered C, O, OU, CN. Built here rather than with pkijs's
 * RelativeDistinguishedNames, which puts all attributes into a single multi-valued RDN.
 */
export function encodeName(name: DistinguishedName): Uint8Array {
  checkDistinguishedName(name);
  const attributes: Array<[string, asn1js.BaseStringBlock]> = [];
  if (name.country) attributes.push([OID.countryName, new asn1js.PrintableString({ value: name.country })]);
  if (name.organization) attributes.push([OID.organizationName, new asn1js.Utf8String({ value: name.organization })]);
  if (name.organizationalUnit) {
    attributes.push([OID.organizationalUnitName, new asn1js.Utf8String({ value: name.organizationalUnit })]);
  }
  attributes.push([OID.commonName, new asn1js.Utf8String({ value: name.commonName })]);
  const rdns = attributes.map(
    ([type, value]) =>
      new asn1js.Set({ value: [new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: type }), value] })] }),
  );
  return new Uint8Array(new asn1js.Sequence({ value: rdns }).toBER());
}

const SHORT_NAMES: Record<string, string> = {
  [OID.commonName]: 'CN',
  [OID.countryName]: 'C',
  [OID.organizationName]: 'O',
  [OID.organizationalUnitName]: 'OU',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'STREET',
  '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID',
  '1.2.840.113549.1.9.1': 'emailAddress',
  '2.5.4.5': 'serialNumber',
};

function decodeString(tag: number, content: Uint8Array): string {
  switch (tag) {
    case TAG.UTF8_STRING:
    case TAG.PRINTABLE_STRING:
    case TAG.IA5_STRING:
    case 0x14: // TeletexString, read as Latin-1 in practice
    case 0x1a: // VisibleString
      return tag === 0x14 ? Buffer.from(content).toString('latin1') : new TextDecoder().decode(content);
    case 0x1e: // BMPString
      return Buffer.from(content).swap16().toString('utf16le');
    default:
      return `#${Buffer.from(content).toString('hex')}`;
  }
}

function escapeValue(value: string): string {
  return value.replace(/([,+"\\<>;=])/g, '\\$1').replace(/^([ #])/, '\\$1').replace(/ $/, '\\ ');
}

/** Reads a DER Name into its RFC 4514 text and the common attributes. */
export function readName(nameDer: Uint8Array): NameInfo {
  const info: NameInfo = { text: '' };
  const parts: string[] = [];
  for (const rdn of children(readSingle(nameDer, TAG.SEQUENCE))) {
    const members: string[] = [];
    for (const attribute of children(rdn)) {
      const [type, value] = children(attribute);
      const dotted = readOid(type);
      const text = decodeString(value.tag, contentOf(value));
      members.push(`${SHORT_NAMES[dotted] ?? dotted}=${escapeValue(text)}`);
      if (dotted === OID.commonName) info.commonName ??= text;
      else if (dotted === OID.organizationName) info.organization ??= text;
      else if (dotted === OID.organizationalUnitName) info.organizationalUnit ??= text;
      else if (dotted === OID.countryName) info.country ??= text;
    }
    parts.push(members.join('+'));
  }
  info.text = parts.reverse().join(',');
  return info;
}
