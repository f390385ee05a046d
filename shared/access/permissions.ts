import * as z from 'zod';

/**
 * MLflow 3.11's permission model (mlflow/server/auth/permissions.py): a grant on an experiment or a
 * registered model is one of these levels, in this order. `USE` (MLflow 3) reads and "uses": MLflow
 * checks it only on AI-gateway resources, which Runway does not have, so on experiments and models it
 * allows what READ allows; it is accepted wherever MLflow 3.11 accepts it (grants, the default).
 */
export const PERMISSIONS = ['NO_PERMISSIONS', 'READ', 'USE', 'EDIT', 'MANAGE'] as const;
export const permissionSchema = z.enum(PERMISSIONS);
export type Permission = z.infer<typeof permissionSchema>;

/** What an endpoint needs, in MLflow's words: `validate_can_read_*`, `..._update_*`, `..._delete_*`, `..._manage_*`. */
export type Need = 'read' | 'update' | 'delete' | 'manage';

const RANK: Record<Permission, number> = { NO_PERMISSIONS: 0, READ: 1, USE: 2, EDIT: 3, MANAGE: 4 };
/** The lowest level that allows a need: READ reads; EDIT also updates; only MANAGE deletes and manages. */
const NEEDS: Record<Need, Permission> = { read: 'READ', update: 'EDIT', delete: 'MANAGE', manage: 'MANAGE' };

/** Whether `permission` allows `need`. */
export function allows(permission: Permission, need: Need): boolean {
  return RANK[permission] >= RANK[NEEDS[need]];
}

/** The lower of two levels: a read-only token caps what its user's grants allow. */
export function lower(a: Permission, b: Permission): Permission {
  return RANK[a] <= RANK[b] ? a : b;
}
