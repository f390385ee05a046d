import { isIP } from 'node:net';
import { InvalidParameterError } from '../../../platform/errors.ts';
import { pyRepr, validateWebhookLength, WEBHOOK_LIMITS } from '../model.ts';
import { type AddressClass, classifyAddress } from './ip-address.ts';

/** One address a hostname resolves to. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a hostname to every address it has (A and AAAA), as the system resolver does. */
export interface AddressResolver {
  resolve(hostname: string): Promise<ResolvedAddress[]>;
}

/**
 * What webhook URLs may point to.
 *
 * `allowPrivateTargets` turns the address checks off. It exists for the local runtime, whose
 * receivers listen on 127.0.0.1: the CDK app sets `WEBHOOK_ALLOW_PRIVATE_TARGETS=true` only when it
 * is synthesized for the local runtime (`runway:local`), and a deployed Runway never has it.
 * `allowedSchemes` is MLflow's `MLFLOW_WEBHOOK_ALLOWED_SCHEMES` (https only unless configured).
 */
export interface TargetPolicy {
  allowPrivateTargets: boolean;
  allowedSchemes: readonly string[];
}

/** Where one delivery attempt connects: the URL, and the address checked for it. */
export interface WebhookTarget {
  url: URL;
  /** The hostname without IPv6 brackets, for the Host header and TLS (SNI, certificate check). */
  hostname: string;
  address: string;
  family: 4 | 6;
}

/** A URL a webhook may not point to. A 400 at create, update and test time; a refusal at delivery. */
export class UnsafeWebhookUrlError extends InvalidParameterError {}

/**
 * The SSRF guard. A URL passes when it parses, its scheme is allowed, it has a host, and every
 * address the host has is public (`ip-address.ts`). The check runs when a webhook is created or
 * updated (so a bad URL is a 400) and again before every connection, on a fresh resolution whose
 * result is the address the connection uses: what was checked is what is reached, so DNS rebinding
 * (a public answer to the check, a private one to the connect) has nothing to exploit. Redirects
 * are never followed (the sender's job), so a public URL cannot bounce a request inwards either.
 */
export class TargetGuard {
  constructor(
    private readonly policy: TargetPolicy,
    private readonly resolver: AddressResolver,
  ) {}

  /**
   * Create/update-time validation: MLflow's `_validate_webhook_url` checks and messages. With
   * private targets allowed it does not resolve the host, so a webhook may name a host that comes
   * up later (as MLflow with `MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS`).
   */
  async validate(url: string): Promise<string> {
    const parsed = this.parse(url);
    if (!this.policy.allowPrivateTargets) await this.resolve(parsed);
    return url;
  }

  /** Delivery-time: the address to connect to, checked. */
  async target(url: string): Promise<WebhookTarget> {
    return this.resolve(this.parse(url));
  }

  private parse(url: string): URL {
    if (url.trim() === '') {
      throw new UnsafeWebhookUrlError(`Webhook URL cannot be empty or just whitespace: ${pyRepr(url)}`);
    }
    validateWebhookLength('url', url, WEBHOOK_LIMITS.url);
    let parsed: URL;
    try {
      // The WHATWG parser is the one Node's HTTP client uses, so the host checked here is the host
      // connected to. It also normalises every IPv4 spelling (`2130706433`, `0x7f.1`, `0177.0.0.1`)
      // to its dotted form and compresses IPv6, before classification.
      parsed = new URL(url);
    } catch {
      throw new UnsafeWebhookUrlError(`Invalid webhook URL: ${pyRepr(url)}`);
    }
    const scheme = parsed.protocol.replace(/:$/, '');
    if (!this.policy.allowedSchemes.includes(scheme)) {
      throw new UnsafeWebhookUrlError(
        `Invalid webhook URL scheme: ${pyRepr(scheme)}. Allowed schemes are: ${this.policy.allowedSchemes.join(', ')}.`,
      );
    }
    if (hostnameOf(parsed) === '') {
      throw new UnsafeWebhookUrlError(`Webhook URL must include a hostname: ${pyRepr(url)}`);
    }
    return parsed;
  }

  private async resolve(url: URL): Promise<WebhookTarget> {
    const hostname = hostnameOf(url);
    const literal = isIP(hostname);
    const addresses: ResolvedAddress[] =
      literal === 4 || literal === 6 ? [{ address: hostname, family: literal }] : await this.lookup(hostname);
    const first = addresses[0];
    if (!first) {
      throw new UnsafeWebhookUrlError(`Cannot resolve webhook URL hostname ${pyRepr(hostname)}: no address`);
    }
    if (!this.policy.allowPrivateTargets) {
      // Every address must be public: a resolver may answer with several and a client may try any.
      for (const { address } of addresses) {
        const kind: AddressClass | undefined = classifyAddress(address);
        if (kind !== 'public') {
          throw new UnsafeWebhookUrlError(
            `Webhook URL must not resolve to a non-public IP address. ${pyRepr(hostname)} resolves to ${address} (${kind ?? 'not an IP address'}).`,
          );
        }
      }
    }
    return { url, hostname, address: first.address, family: first.family };
  }

  private async lookup(hostname: string): Promise<ResolvedAddress[]> {
    try {
      return await this.resolver.resolve(hostname);
    } catch (error) {
      const reason =
        error instanceof Error ? ((error as NodeJS.ErrnoException).code ?? error.message) : 'error';
      throw new UnsafeWebhookUrlError(`Cannot resolve webhook URL hostname ${pyRepr(hostname)}: ${reason}`);
    }
  }
}

/** The URL's host as a resolver or `isIP` takes it: IPv6 without brackets, no trailing dot. */
function hostnameOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
}
