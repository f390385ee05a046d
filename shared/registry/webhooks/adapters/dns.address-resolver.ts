import { lookup } from 'node:dns/promises';
import type { AddressResolver, ResolvedAddress } from '../ssrf/target-guard.ts';

/**
 * The system resolver (`getaddrinfo`, as Node's HTTP client and MLflow's `socket.getaddrinfo` use),
 * every address of both families, in the resolver's order.
 */
export const systemAddressResolver: AddressResolver = {
  async resolve(hostname: string): Promise<ResolvedAddress[]> {
    const addresses = await lookup(hostname, { all: true, verbatim: true });
    return addresses.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 }));
  },
};
