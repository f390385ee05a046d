import { createHash, type Hash } from 'node:crypto';
import type { SignatureV4 } from '@smithy/signature-v4';

/*
 * AWS SigV4 for requests to a Runway on AWS, whose API requires IAM authorization. Used by the
 * `runway` CLI and the end-to-end suite. The signing packages are loaded on first use only, so
 * commands that never sign do not load them.
 */

let signer: Promise<SignatureV4> | undefined;

/** SHA-256 on Node's crypto, in the shape SigV4 wants. */
class Sha256 {
  private readonly hash: Hash = createHash('sha256');
  update(data: string | Uint8Array): void {
    this.hash.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return this.hash.digest();
  }
  reset(): void {}
}

/**
 * Signs for API Gateway (`execute-api`) with the default credential chain (environment, profile,
 * SSO, instance role), as the MLflow client does with `MLFLOW_TRACKING_AWS_SIGV4=true`. The signing
 * packages load only when asked for.
 */
export async function signSigV4(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: Uint8Array | string | undefined,
): Promise<Record<string, string>> {
  signer ??= (async () => {
    const [{ SignatureV4 }, { defaultProvider }] = await Promise.all([
      import('@smithy/signature-v4'),
      import('@aws-sdk/credential-provider-node'),
    ]);
    return new SignatureV4({
      service: 'execute-api',
      region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
      credentials: defaultProvider(),
      sha256: Sha256,
    });
  })();
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of url.searchParams) {
    const existing = query[key];
    query[key] = existing === undefined ? value : [existing, value].flat();
  }
  const request = await (await signer).sign({
    method,
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    path: url.pathname,
    query,
    headers: { ...headers, host: url.host },
    body,
  });
  const { host: _host, ...rest } = request.headers;
  return rest;
}
