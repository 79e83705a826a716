import { describe, expect, it } from 'vitest';
import { isPrivateAddress } from './address.js';

describe('isPrivateAddress', () => {
  it.each([
    '127.0.0.1',
    '127.255.255.254',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254', // cloud metadata
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '198.18.0.1',
    '192.0.2.10',
  ])('IPv4 %s is private', (ip) => expect(isPrivateAddress(ip)).toBe(true));

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '172.15.255.255',
    '172.32.0.1',
    '100.128.0.1',
    '169.253.0.1',
    '11.0.0.1',
    '93.184.216.34',
  ])('IPv4 %s is public', (ip) => expect(isPrivateAddress(ip)).toBe(false));

  it.each([
    '::1',
    '::',
    '0:0:0:0:0:0:0:1',
    'fc00::1',
    'fd12:3456:789a::1', // unique-local
    'fe80::1', // link-local
    'fe80::1%eth0',
    'febf::1',
    'fec0::1',
    'ff02::1',
    '2001:db8::1',
    '100::1',
  ])('IPv6 %s is private', (ip) => expect(isPrivateAddress(ip)).toBe(true));

  it.each(['2606:4700:4700::1111', '2001:4860:4860::8888', '2a00:1450:4007:80e::200e'])(
    'IPv6 %s is public',
    (ip) => expect(isPrivateAddress(ip)).toBe(false),
  );

  it('an IPv4 address inside IPv6 is judged as that IPv4 address (mapped, hex mapped, compatible, NAT64, 6to4)', () => {
    expect(isPrivateAddress('::ffff:127.0.0.1')).toBe(true);
    expect(isPrivateAddress('::ffff:7f00:1')).toBe(true);
    expect(isPrivateAddress('::ffff:169.254.169.254')).toBe(true);
    expect(isPrivateAddress('0:0:0:0:0:ffff:10.0.0.1')).toBe(true);
    expect(isPrivateAddress('::10.0.0.1')).toBe(true);
    expect(isPrivateAddress('64:ff9b::192.168.0.1')).toBe(true);
    expect(isPrivateAddress('2002:c0a8:0101::1')).toBe(true); // 6to4 of 192.168.1.1
    expect(isPrivateAddress('::ffff:8.8.8.8')).toBe(false);
    expect(isPrivateAddress('64:ff9b::8.8.8.8')).toBe(false);
    expect(isPrivateAddress('2002:0808:0808::1')).toBe(false);
  });

  it('anything that is not an IP address is refused', () => {
    for (const s of ['', 'localhost', '1.2.3', '256.1.1.1', '::ffff:999.0.0.1', 'example.com', '1::2::3'])
      expect(isPrivateAddress(s)).toBe(true);
  });
});
