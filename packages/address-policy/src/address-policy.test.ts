import { describe, expect, it } from 'vitest';
import { AddressPolicy } from './address-policy.js';

describe('AddressPolicy', () => {
  const policy = new AddressPolicy([]);

  it.each([
    ['127.0.0.1', 'a loopback address'],
    ['127.255.0.9', 'a loopback address'],
    ['::1', 'a loopback address'],
    ['10.1.2.3', 'a private address'],
    ['172.16.0.1', 'a private address'],
    ['192.168.1.1', 'a private address'],
    ['fd12:3456::1', 'a unique-local (private) address'],
    ['169.254.10.10', 'a link-local address'],
    ['fe80::1', 'a link-local address'],
    ['169.254.169.254', 'a cloud metadata address'],
    ['fd00:ec2::254', 'a cloud metadata address'],
    ['100.100.100.200', 'a cloud metadata address'],
    ['168.63.129.16', 'a cloud metadata address'],
    ['100.64.0.1', 'a carrier-grade NAT (shared) address'],
    ['224.0.0.1', 'a multicast address'],
    ['ff02::1', 'a multicast address'],
    ['0.0.0.0', 'an unspecified address'],
    ['::', 'an unspecified address'],
    ['255.255.255.255', 'a broadcast address'],
    ['192.0.2.1', 'a reserved address'],
    ['::ffff:127.0.0.1', 'a loopback address'],
    ['::ffff:10.0.0.1', 'a private address'],
  ])('refuses %s as %s', (address, reason) => {
    expect(policy.check('example.com', address)).toEqual({ allowed: false, reason });
  });

  it('refuses IPv6 tunnels and translations that can carry internal IPv4 addresses', () => {
    for (const address of ['64:ff9b::a00:1', '2002:a00:1::1', '2001:0:a00:1::1']) {
      expect(policy.check('example.com', address).allowed, address).toBe(false);
    }
  });

  it('allows public unicast addresses', () => {
    for (const address of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111', '::ffff:93.184.216.34']) {
      expect(policy.check('example.com', address), address).toEqual({ allowed: true });
    }
  });

  it('lets the operator allow host names, addresses and ranges', () => {
    const allowing = new AddressPolicy(['127.0.0.1', '10.20.0.0/16', 'media.internal', '::1']);
    expect(allowing.check('anything', '127.0.0.1').allowed).toBe(true);
    expect(allowing.check('anything', '::ffff:127.0.0.1').allowed).toBe(true);
    expect(allowing.check('anything', '::1').allowed).toBe(true);
    expect(allowing.check('anything', '10.20.3.4').allowed).toBe(true);
    expect(allowing.check('anything', '10.21.3.4').allowed).toBe(false);
    expect(allowing.check('anything', '127.0.0.2').allowed).toBe(false);
    expect(allowing.check('media.internal', '192.168.7.7').allowed).toBe(true);
    expect(allowing.check('MEDIA.INTERNAL.', '192.168.7.7').allowed).toBe(true);
    expect(allowing.check('other.internal', '192.168.7.7').allowed).toBe(false);
  });
});
