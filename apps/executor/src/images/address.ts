import { isIP } from 'node:net';

/**
 * Which addresses an image fetch may connect to. Refused ("private"): everything that is not a public unicast
 * address, because a fetch there could reach the gateway's own network (SSRF):
 * - IPv4: 0/8 (this network), 10/8, 100.64/10 (carrier NAT), 127/8 (loopback), 169.254/16 (link-local, cloud
 *   metadata), 172.16/12, 192.0.0/24, 192.0.2/24, 192.88.99/24, 192.168/16, 198.18/15, 198.51.100/24, 203.0.113/24,
 *   224/4 (multicast), 240/4 (reserved, broadcast).
 * - IPv6: ::/128, ::1, fc00::/7 (unique-local), fe80::/10 (link-local), fec0::/10 (old site-local), ff00::/8
 *   (multicast), 2001:db8::/32 (documentation), 100::/64 (discard); and an IPv4 address inside IPv6 is judged as
 *   that IPv4 address: mapped (::ffff:a.b.c.d), compatible (::a.b.c.d), NAT64 (64:ff9b::/96), 6to4 (2002::/16).
 * Anything that is not an IP address at all is refused too.
 */

type Range = { bytes: number[]; bits: number };

const V4: Range[] = [
  [[0], 8],
  [[10], 8],
  [[100, 64], 10],
  [[127], 8],
  [[169, 254], 16],
  [[172, 16], 12],
  [[192, 0, 0], 24],
  [[192, 0, 2], 24],
  [[192, 88, 99], 24],
  [[192, 168], 16],
  [[198, 18], 15],
  [[198, 51, 100], 24],
  [[203, 0, 113], 24],
  [[224], 4],
  [[240], 4],
].map(([bytes, bits]) => ({ bytes: bytes as number[], bits: bits as number }));

const V6: Range[] = [
  [[0xfc], 7],
  [[0xfe, 0x80], 10],
  [[0xfe, 0xc0], 10],
  [[0xff], 8],
  [[0x20, 0x01, 0x0d, 0xb8], 32],
  [[0x01, 0x00, 0, 0, 0, 0, 0, 0], 64],
].map(([bytes, bits]) => ({ bytes: bytes as number[], bits: bits as number }));

function inRange(addr: Uint8Array, r: Range): boolean {
  for (let bit = 0; bit < r.bits; bit++) {
    const i = bit >> 3;
    const mask = 0x80 >> (bit & 7);
    if ((addr[i]! & mask) !== ((r.bytes[i] ?? 0) & mask)) return false;
  }
  return true;
}

function parseV4(s: string): Uint8Array | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    if (!/^\d{1,3}$/.test(parts[i]!)) return null;
    const n = Number(parts[i]);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

/** 16 bytes of an IPv6 address (with `::` and a trailing dotted IPv4 part); null when it is not one. */
function parseV6(input: string): Uint8Array | null {
  let s = input.replace(/%.*$/, ''); // zone id
  let tail: Uint8Array | null = null;
  const lastColon = s.lastIndexOf(':');
  if (s.includes('.', lastColon)) {
    tail = parseV4(s.slice(lastColon + 1));
    if (!tail) return null;
    s = `${s.slice(0, lastColon + 1)}0:0`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const rest = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const groups =
    halves.length === 2
      ? [...head, ...Array<string>(8 - head.length - rest.length).fill('0'), ...rest]
      : head;
  if (groups.length !== 8) return null;
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    if (!/^[0-9a-f]{1,4}$/i.test(groups[i]!)) return null;
    const n = parseInt(groups[i]!, 16);
    out[2 * i] = n >> 8;
    out[2 * i + 1] = n & 0xff;
  }
  if (tail) out.set(tail, 12);
  return out;
}

function privateV4(a: Uint8Array): boolean {
  return V4.some((r) => inRange(a, r));
}

/** The IPv4 address carried inside an IPv6 one (mapped, compatible, NAT64, 6to4), if any. */
function embeddedV4(a: Uint8Array): Uint8Array | null {
  const zeros = (from: number, to: number) => a.subarray(from, to).every((b) => b === 0);
  if (zeros(0, 10) && a[10] === 0xff && a[11] === 0xff) return a.subarray(12, 16); // ::ffff:a.b.c.d
  if (zeros(0, 12) && !zeros(12, 16)) return a.subarray(12, 16); // ::a.b.c.d (deprecated compatible form)
  if (a[0] === 0x00 && a[1] === 0x64 && a[2] === 0xff && a[3] === 0x9b && zeros(4, 12))
    return a.subarray(12, 16); // 64:ff9b::/96
  if (a[0] === 0x20 && a[1] === 0x02) return a.subarray(2, 6); // 2002:AABB:CCDD::/48
  return null;
}

export function isPrivateAddress(address: string): boolean {
  const family = isIP(address.replace(/%.*$/, ''));
  if (family === 4) return privateV4(parseV4(address)!);
  if (family !== 6) return true;
  const a = parseV6(address);
  if (!a) return true;
  if (a.every((b) => b === 0)) return true; // ::
  if (a.subarray(0, 15).every((b) => b === 0) && a[15] === 1) return true; // ::1
  const v4 = embeddedV4(a);
  if (v4) return privateV4(v4);
  return V6.some((r) => inRange(a, r));
}
