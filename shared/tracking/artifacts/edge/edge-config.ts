import * as z from 'zod';
import { permissionSchema } from '../../../access/permissions.ts';
import { ConfigurationError } from '../../../platform/config.ts';

/**
 * Lambda@Edge functions have no environment variables, and CloudFront replicates one code bundle to
 * every edge location. So the artifact edge function reads its configuration from the custom headers
 * of the origin it guards (`request.origin.s3.customHeaders` in an origin-request event): CloudFront
 * adds them, a viewer cannot set or override them, and CDK resolves them at deploy time (table and
 * bucket names, the home region). The names are also what the local runtime passes, from the same
 * synthesized template.
 */
export const EDGE_CONFIG_HEADERS = {
  /** Runway's home region: its tables and bucket live there, wherever the function runs. */
  region: 'x-runway-region',
  /** Tokens and grants (`StatefulStack.accessTable`). */
  accessTable: 'x-runway-access-table',
  /** The artifact bucket (the S3 origin itself; the function deletes there). */
  artifactBucket: 'x-runway-artifact-bucket',
  /** Keys are `<prefix>/<artifact path>`; empty: the artifact path itself (`ARTIFACT_KEY_PREFIX`). */
  keyPrefix: 'x-runway-key-prefix',
  /** MLflow's `default_permission` (`RUNWAY_DEFAULT_PERMISSION`). */
  defaultPermission: 'x-runway-default-permission',
} as const;

const configSchema = z.object({
  region: z.string().trim().min(1),
  accessTable: z.string().trim().min(1),
  artifactBucket: z.string().trim().min(1),
  keyPrefix: z
    .string()
    .default('')
    .transform((value) => value.replace(/^\/+|\/+$/g, '')),
  defaultPermission: permissionSchema.default('READ'),
});

export type ArtifactEdgeConfig = z.infer<typeof configSchema>;

/** CloudFront's header shape: lower-case names, each a list of `{ key, value }`. */
export type CloudFrontHeaderMap = Record<string, Array<{ key?: string; value: string }>>;

/**
 * The configuration carried by an origin's custom headers; a distribution without them (a wrong
 * origin, a hand-made change) fails every request with a 500 and one clear log line.
 */
export function edgeConfigFrom(customHeaders: CloudFrontHeaderMap | undefined): ArtifactEdgeConfig {
  const read = (name: string) => customHeaders?.[name]?.[0]?.value;
  const raw = Object.fromEntries(
    Object.entries(EDGE_CONFIG_HEADERS).flatMap(([field, header]) => {
      const value = read(header);
      return value === undefined ? [] : [[field, value]];
    }),
  );
  const parsed = configSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const field = String(issue.path[0]) as keyof typeof EDGE_CONFIG_HEADERS;
    return `${EDGE_CONFIG_HEADERS[field] ?? field}: ${issue.message}`;
  });
  throw new ConfigurationError(`Invalid origin custom headers: ${problems.join('; ')}`);
}
