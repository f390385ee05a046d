/**
 * Which IP addresses a webhook may reach: only public unicast ones. Everything a Lambda function (or
 * any server) could reach but the internet could not is refused: private and shared ranges,
 * loopback, link-local (169.254.0.0/16, where the instance metadata service 169.254.169.254 and
 * the ECS credentials endpoint live), IPv6 unique-local (fd00:ec2::254 is EC2's IPv6 metadata
 * address), site-local, multicast, documentation and reserved ranges. IPv6 forms that carry an IPv4
 * address (IPv4-mapped, NAT64, 6to4) are judged by the IPv4 address they carry, since that is where
 * a packet may end up. The ranges follow the IANA special-purpose registries, as Python's
 * `ipaddress.is_global` (which MLflow uses) does.
 *
 * Addresses are classified from their numeric value, never by string prefix, so every spelling of
 * one address (`127.1`, `0x7f000001`, `::ffff:7f00:1`) lands in the same class: URLs are normalised
 * by the WHATWG parser first (`TargetGuard`), and what remains is parsed strictly here.
 */

export type AddressClass =
  | 'public'
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'shared'
  | 'link-local'
  | 'unique-local'
  | 'site-local'
  | 'multicast'
  | 'documentation'
  | 'benchmarking'
  | 'reserved'
  | 'broadcast';

interface Range {
  base: bigint;
  bits: number;
  class: Exclude<AddressClass, 'public'>;
}

const IPV4_RANGES: readonly Range[] = [
  v4('0.0.0.0', 8, 'unspecified'),
  v4('10.0.0.0', 8, 'private'),
  v4('100.64.0.0', 10, 'shared'),
  v4('127.0.0.0', 8, 'loopback'),
  v4('169.254.0.0', 16, 'link-local'),
  v4('172.16.0.0', 12, 'private'),
  v4('192.0.0.0', 24, 'reserved'),
  v4('192.0.2.0', 24, 'documentation'),
  v4('192.88.99.0', 24, 'reserved'),
  v4('192.168.0.0', 16, 'private'),
  v4('198.18.0.0', 15, 'benchmarking'),
  v4('198.51.100.0', 24, 'documentation'),
  v4('203.0.113.0', 24, 'documentation'),
  v4('224.0.0.0', 4, 'multicast'),
  v4('255.255.255.255', 32, 'broadcast'),
  v4('240.0.0.0', 4, 'reserved'),
];

/** Checked in order: the first match decides (so `::1` is loopback, not reserved). */
const IPV6_RANGES: readonly Range[] = [
  v6('::', 128, 'unspecified'),
  v6('::1', 128, 'loopback'),
  v6('64:ff9b:1::', 48, 'private'),
  v6('100::', 64, 'reserved'),
  v6('2001:db8::', 32, 'documentation'),
  v6('2001::', 23, 'reserved'),
  v6('3fff::', 20, 'documentation'),
  v6('fc00::', 7, 'unique-local'),
  v6('fe80::', 10, 'link-local'),
  v6('fec0::', 10, 'site-local'),
  v6('ff00::', 8, 'multicast'),
];

/** IPv6 prefixes whose low bits are an IPv4 address: [prefix, prefix bits, bit offset of the IPv4]. */
const IPV4_CARRIERS: ReadonlyArray<readonly [bigint, number, number]> = [
  // IPv4-mapped ::ffff:a.b.c.d
  [parseIPv6Strict('::ffff:0:0') as bigint, 96, 0],
  // NAT64 well-known prefix 64:ff9b::a.b.c.d (RFC 6052)
  [parseIPv6Strict('64:ff9b::') as bigint, 96, 0],
  // 6to4 2002:aabb:ccdd::/48 (RFC 3056)
  [parseIPv6Strict('2002::') as bigint, 16, 80],
];

/** 2000::/3, global unicast: the only IPv6 space that can be public. */
const GLOBAL_UNICAST = parseIPv6Strict('2000::') as bigint;

/**
 * The class of an IP address given in its canonical text form (dotted-quad IPv4, or IPv6 with an
 * optional `%zone`); `undefined` when the text is not an IP address.
 */
export function classifyAddress(text: string): AddressClass | undefined {
  const v4value = parseIPv4Strict(text);
  if (v4value !== undefined) return classifyV4(v4value);
  const v6value = parseIPv6Strict(text.replace(/%.*$/, ''));
  if (v6value === undefined) return undefined;
  return classifyV6(v6value);
}

/** Whether webhooks may reach the address (unparseable text is never public). */
export function isPublicAddress(text: string): boolean {
  return classifyAddress(text) === 'public';
}

function classifyV4(value: bigint): AddressClass {
  return IPV4_RANGES.find((range) => inRange(value, range, 32))?.class ?? 'public';
}

function classifyV6(value: bigint): AddressClass {
  for (const [prefix, bits, offset] of IPV4_CARRIERS) {
    if (value >> BigInt(128 - bits) === prefix >> BigInt(128 - bits)) {
      return classifyV4((value >> BigInt(offset)) & 0xffffffffn);
    }
  }
  const known = IPV6_RANGES.find((range) => inRange(value, range, 128));
  if (known) return known.class;
  return value >> 125n === GLOBAL_UNICAST >> 125n ? 'public' : 'reserved';
}

function inRange(value: bigint, range: Range, width: number): boolean {
  const shift = BigInt(width - range.bits);
  return value >> shift === range.base >> shift;
}

/** Strict dotted-quad: four decimal parts 0-255, no leading zeros (those mean octal to some parsers). */
export function parseIPv4Strict(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(part)) return undefined;
    const byte = Number(part);
    if (byte > 255) return undefined;
    value = (value << 8n) | BigInt(byte);
  }
  return value;
}

/** RFC 4291 text forms: eight groups, one `::`, an optional dotted-quad tail. */
export function parseIPv6Strict(text: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text) || text.split('::').length > 2) return undefined;
  let groups: string[];
  const tail: number[] = [];
  let body = text;
  const lastColon = body.lastIndexOf(':');
  if (body.slice(lastColon + 1).includes('.')) {
    const v4value = parseIPv4Strict(body.slice(lastColon + 1));
    if (v4value === undefined || lastColon < 0) return undefined;
    tail.push(Number(v4value >> 16n), Number(v4value & 0xffffn));
    body = body.slice(0, lastColon + 1);
    if (body.endsWith(':') && !body.endsWith('::')) body = body.slice(0, -1);
  }
  const room = 8 - tail.length;
  if (body.includes('::')) {
    const [head = '', rest = ''] = body.split('::');
    const left = head === '' ? [] : head.split(':');
    const right = rest === '' ? [] : rest.split(':');
    if (left.length + right.length >= room) return undefined;
    groups = [...left, ...Array<string>(room - left.length - right.length).fill('0'), ...right];
  } else {
    groups = body === '' ? [] : body.split(':');
    if (groups.length !== room) return undefined;
  }
  let value = 0n;
  for (const group of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return undefined;
    value = (value << 16n) | BigInt(Number.parseInt(group, 16));
  }
  for (const group of tail) value = (value << 16n) | BigInt(group);
  return value;
}

function v4(text: string, bits: number, kind: Range['class']): Range {
  return { base: parseIPv4Strict(text) as bigint, bits, class: kind };
}

function v6(text: string, bits: number, kind: Range['class']): Range {
  return { base: parseIPv6Strict(text) as bigint, bits, class: kind };
}
