import * as z from 'zod';
import { type Permission, permissionSchema } from './permissions.ts';

/**
 * Who is calling, as every function sees it after the authorizer (a token) or API Gateway (IAM)
 * authenticated the request. `name` is the user a token belongs to, or the IAM principal's ARN.
 */
export interface Principal {
  name: string;
  kind: 'token' | 'iam';
  /** Admins pass every check, as in MLflow (`sender_is_admin`). */
  admin: boolean;
  /** The most a credential allows whatever the grants say: READ for a read-only token. */
  ceiling: Permission;
  /** The token's id, for audit logs; never the token itself. */
  tokenId?: string;
}

/** A user name as MLflow's auth accepts it; also the principal of IAM callers (an ARN). */
export const userNameSchema = z
  .string()
  .trim()
  .min(1)
  .max(256)
  .regex(/^[\w.@+:/=,-]+$/, 'may hold letters, digits and _.@+:/=,- only');

/** A token's record in the access table. The secret is stored only as its SHA-256 hash. */
export const tokenRecordSchema = z.object({
  tokenId: z.string(),
  secretHash: z.string(),
  user: z.string(),
  admin: z.boolean(),
  /** `READ` for a read-only token, `MANAGE` for one that may do whatever its user's grants allow. */
  ceiling: permissionSchema,
  description: z.string().optional(),
  createdAt: z.number(),
  createdBy: z.string(),
  /** Epoch milliseconds; absent: never expires. */
  expiresAt: z.number().optional(),
  revokedAt: z.number().optional(),
});
export type TokenRecord = z.infer<typeof tokenRecordSchema>;

/** A token as listings show it: everything but the hash. */
export type TokenInfo = Omit<TokenRecord, 'secretHash'>;

/** The kinds of resource MLflow grants permissions on. */
export type ResourceKind = 'experiment' | 'registered_model';

export interface Grant {
  kind: ResourceKind;
  /** The experiment id or the registered model's name. */
  resource: string;
  user: string;
  permission: Permission;
}
