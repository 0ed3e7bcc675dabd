import ipaddr from 'ipaddr.js';

/**
 * Which network addresses the mesh may connect to for a URL a caller chose: VerifyUrl, the
 * gateway's file_url and webhook deliveries all use this one policy. Only public unicast addresses, by the special
 * ranges ipaddr.js knows (loopback, private, link-local, carrier-grade NAT, unique-local,
 * multicast, unspecified, broadcast, reserved, documentation, 6to4/Teredo/NAT64 tunnels that can
 * wrap any of those, ...), plus the cloud metadata endpoints some providers put on addresses that
 * look public. An operator allowlist of host names, addresses and CIDR ranges lifts the refusal.
 */

/** Cloud instance-metadata addresses. Most sit in ranges refused anyway; listed so none slips. */
const METADATA_ADDRESSES = new Set([
  '169.254.169.254', // AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle
  '169.254.170.2', // AWS ECS task metadata
  '100.100.100.200', // Alibaba Cloud
  '192.0.0.192', // Oracle Cloud (classic)
  '168.63.129.16', // Azure WireServer: a public-looking address
  'fd00:ec2::254', // AWS IPv6
]);

export interface AddressVerdict {
  allowed: boolean;
  /** Why it is refused, in words: "a loopback address". */
  reason?: string;
}

const RANGE_NAMES: Record<string, string> = {
  unspecified: 'an unspecified address',
  broadcast: 'a broadcast address',
  multicast: 'a multicast address',
  linkLocal: 'a link-local address',
  loopback: 'a loopback address',
  carrierGradeNat: 'a carrier-grade NAT (shared) address',
  private: 'a private address',
  uniqueLocal: 'a unique-local (private) address',
  reserved: 'a reserved address',
};

export class AddressPolicy {
  private readonly names: Set<string>;
  private readonly ranges: Array<[ipaddr.IPv4 | ipaddr.IPv6, number]>;

  /** `allowHosts`: host names, IP addresses and CIDR ranges (lower case, no brackets). */
  constructor(allowHosts: readonly string[]) {
    this.names = new Set();
    this.ranges = [];
    for (const entry of allowHosts) {
      if (ipaddr.isValidCIDR(entry)) this.ranges.push(ipaddr.parseCIDR(entry));
      else if (ipaddr.isValid(entry)) {
        const address = canonical(ipaddr.parse(entry));
        this.ranges.push([address, address.kind() === 'ipv4' ? 32 : 128]);
      } else this.names.add(entry.replace(/\.$/, '').toLowerCase());
    }
  }

  /** True when the operator allowed this host name (as written in the URL, without brackets). */
  hostAllowed(hostname: string): boolean {
    return this.names.has(hostname.replace(/\.$/, '').toLowerCase());
  }

  /** Whether a connection to `address` (a literal IP) may be made for `hostname`. */
  check(hostname: string, address: string): AddressVerdict {
    if (!ipaddr.isValid(address)) return { allowed: false, reason: 'not an IP address' };
    const ip = canonical(ipaddr.parse(address));
    if (this.hostAllowed(hostname) || this.ranges.some(([base, bits]) => base.kind() === ip.kind() && ip.match(base, bits))) {
      return { allowed: true };
    }
    if (METADATA_ADDRESSES.has(ip.toString())) return { allowed: false, reason: 'a cloud metadata address' };
    const range = ip.range();
    if (range === 'unicast') return { allowed: true };
    return { allowed: false, reason: RANGE_NAMES[range] ?? `a special-purpose address (${range})` };
  }
}

/** IPv4-mapped IPv6 (::ffff:10.0.0.1) is the IPv4 address it carries: judge that one. */
function canonical(address: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4 | ipaddr.IPv6 {
  return address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress() ? (address as ipaddr.IPv6).toIPv4Address() : address;
}
