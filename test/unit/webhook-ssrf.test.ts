import { describe, expect, it } from 'vitest';
import { classifyAddress, isPublicAddress } from '../../shared/registry/webhooks/ssrf/ip-address.ts';
import {
  type AddressResolver,
  type ResolvedAddress,
  TargetGuard,
  UnsafeWebhookUrlError,
} from '../../shared/registry/webhooks/ssrf/target-guard.ts';

/** A resolver that answers from a table (or a script of answers per name), counting lookups. */
function fakeResolver(table: Record<string, string[] | string[][]>) {
  const lookups: string[] = [];
  const resolver: AddressResolver = {
    async resolve(hostname) {
      lookups.push(hostname);
      const entry = table[hostname];
      if (!entry) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
      const answer = (Array.isArray(entry[0]) ? (entry as string[][]).shift() : entry) as string[];
      return answer.map((address): ResolvedAddress => ({ address, family: address.includes(':') ? 6 : 4 }));
    },
  };
  return { resolver, lookups };
}

const PUBLIC = '93.184.216.34';

function cloudGuard(table: Record<string, string[] | string[][]> = {}) {
  const { resolver, lookups } = fakeResolver({ 'public.example.com': [PUBLIC], ...table });
  return {
    guard: new TargetGuard({ allowPrivateTargets: false, allowedSchemes: ['https'] }, resolver),
    lookups,
  };
}

describe('address classification', () => {
  it.each([
    ['8.8.8.8', 'public'],
    ['1.1.1.1', 'public'],
    ['172.32.0.1', 'public'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['169.254.169.254', 'link-local'],
    ['169.254.170.2', 'link-local'],
    ['100.64.0.1', 'shared'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.0.1', 'reserved'],
    ['192.0.2.1', 'documentation'],
    ['198.18.0.1', 'benchmarking'],
  ])('IPv4 %s is %s', (address, expected) => {
    expect(classifyAddress(address)).toBe(expected);
  });

  it.each([
    ['2606:4700:4700::1111', 'public'],
    ['2001:4860:4860::8888', 'public'],
    ['::1', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['fc00::1', 'unique-local'],
    ['fd00:ec2::254', 'unique-local'],
    ['fec0::1', 'site-local'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'documentation'],
    ['2001::1', 'reserved'],
    ['100::1', 'reserved'],
    ['::127.0.0.1', 'reserved'],
    ['4000::1', 'reserved'],
  ])('IPv6 %s is %s', (address, expected) => {
    expect(classifyAddress(address)).toBe(expected);
  });

  it.each([
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::FFFF:169.254.169.254', 'link-local'],
    ['::ffff:a9fe:a9fe', 'link-local'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:8.8.8.8', 'public'],
    ['64:ff9b::a9fe:a9fe', 'link-local'],
    ['64:ff9b::8.8.8.8', 'public'],
    ['64:ff9b:1::1', 'private'],
    ['2002:a9fe:a9fe::1', 'link-local'],
    ['2002:7f00:1::', 'loopback'],
    ['2002:808:808::1', 'public'],
  ])('IPv6 carrying IPv4 %s is judged by the IPv4 address: %s', (address, expected) => {
    expect(classifyAddress(address)).toBe(expected);
  });

  it('reads only canonical text: other spellings are not addresses here (URLs are normalised first)', () => {
    for (const text of [
      'localhost',
      '1.2.3',
      '01.2.3.4',
      '1.2.3.256',
      '0x7f.0.0.1',
      '2130706433',
      ':::1',
      '1::2::3',
      '[::1]',
    ]) {
      expect(classifyAddress(text)).toBeUndefined();
      expect(isPublicAddress(text)).toBe(false);
    }
  });
});

describe('SSRF guard (cloud: https, public addresses only)', () => {
  it.each([
    ['https://127.0.0.1/hook', 'loopback'],
    ['https://2130706433/hook', 'loopback'],
    ['https://0177.0.0.1/hook', 'loopback'],
    ['https://0x7f.0.0.1/hook', 'loopback'],
    ['https://0x7f000001/hook', 'loopback'],
    ['https://127.1/hook', 'loopback'],
    ['https://0/hook', 'unspecified'],
    ['https://169.254.169.254/latest/meta-data/iam/security-credentials/', 'link-local'],
    ['https://2852039166/latest/meta-data/', 'link-local'],
    ['https://[::1]:8443/hook', 'loopback'],
    ['https://[::ffff:127.0.0.1]/hook', 'loopback'],
    ['https://[::ffff:a9fe:a9fe]/hook', 'link-local'],
    ['https://[fd00:ec2::254]/latest/meta-data/', 'unique-local'],
    ['https://[fe80::1]/hook', 'link-local'],
    ['https://10.0.0.8/hook', 'private'],
  ])('refuses %s (%s) at validation and at delivery, without resolving', async (url, kind) => {
    const { guard, lookups } = cloudGuard();
    await expect(guard.validate(url)).rejects.toThrow(
      new RegExp(`must not resolve to a non-public IP address\\. .* \\(${kind}\\)\\.$`),
    );
    await expect(guard.target(url)).rejects.toBeInstanceOf(UnsafeWebhookUrlError);
    expect(lookups).toEqual([]);
  });

  it.each([
    ['internal.example.com', ['10.1.2.3']],
    ['metadata.example.com', ['169.254.169.254']],
    ['localhost.example.com', ['127.0.0.1', '::1']],
    ['mixed.example.com', [PUBLIC, '192.168.0.10']],
    ['v6.example.com', ['fd12:3456::1']],
    ['mapped.example.com', ['::ffff:10.0.0.1']],
  ])('refuses a name that resolves to a non-public address: %s -> %j', async (host, addresses) => {
    const { guard } = cloudGuard({ [host]: addresses });
    await expect(guard.validate(`https://${host}/hook`)).rejects.toThrow(
      `Webhook URL must not resolve to a non-public IP address. '${host}' resolves to`,
    );
  });

  it('accepts a public name and answers the address it checked, for the connection to use', async () => {
    const { guard } = cloudGuard({ 'hooks.example.com': [PUBLIC, '2606:4700:4700::1111'] });
    await expect(guard.validate('https://hooks.example.com/x')).resolves.toBe('https://hooks.example.com/x');
    const target = await guard.target('https://hooks.example.com/x?a=1');
    expect(target).toMatchObject({ hostname: 'hooks.example.com', address: PUBLIC, family: 4 });
    expect(target.url.search).toBe('?a=1');
  });

  it('checks again at every delivery: a name that rebinds to a private address is refused then', async () => {
    const { guard, lookups } = cloudGuard({ 'rebind.example.com': [[PUBLIC], ['169.254.169.254']] });
    await guard.validate('https://rebind.example.com/hook');
    await expect(guard.target('https://rebind.example.com/hook')).rejects.toThrow(/169\.254\.169\.254/);
    expect(lookups).toEqual(['rebind.example.com', 'rebind.example.com']);
  });

  it('answers MLflow’s messages for bad URLs', async () => {
    const { guard } = cloudGuard();
    await expect(guard.validate('   ')).rejects.toThrow(
      "Webhook URL cannot be empty or just whitespace: '   '",
    );
    await expect(guard.validate('http://public.example.com/')).rejects.toThrow(
      "Invalid webhook URL scheme: 'http'. Allowed schemes are: https.",
    );
    for (const url of [
      'ftp://example.com/',
      'file:///etc/passwd',
      'gopher://example.com/',
      'javascript:alert(1)',
    ]) {
      await expect(guard.validate(url)).rejects.toThrow(/^Invalid webhook URL scheme: '/);
    }
    await expect(guard.validate('https://[invalid')).rejects.toThrow(
      "Invalid webhook URL: 'https://[invalid'",
    );
    await expect(guard.validate('nonsense')).rejects.toThrow("Invalid webhook URL: 'nonsense'");
    await expect(guard.validate(`https://public.example.com/${'a'.repeat(500)}`)).rejects.toThrow(
      "'url' exceeds the maximum length of 500 characters",
    );
    await expect(guard.validate('https://nx.example.com/')).rejects.toThrow(
      "Cannot resolve webhook URL hostname 'nx.example.com': ENOTFOUND",
    );
  });

  it('lets the local runtime reach loopback over http when private targets are allowed', async () => {
    const { resolver, lookups } = fakeResolver({ 'receiver.local': ['127.0.0.1'] });
    const guard = new TargetGuard({ allowPrivateTargets: true, allowedSchemes: ['http', 'https'] }, resolver);
    await expect(guard.validate('http://127.0.0.1:8080/hook')).resolves.toBeDefined();
    // Validation does not resolve (a local receiver may start later); delivery does, and pins.
    await expect(guard.validate('http://receiver.local/hook')).resolves.toBeDefined();
    expect(lookups).toEqual([]);
    await expect(guard.target('http://receiver.local/hook')).resolves.toMatchObject({ address: '127.0.0.1' });
    await expect(guard.validate('ftp://127.0.0.1/')).rejects.toThrow('Allowed schemes are: http, https.');
  });
});
