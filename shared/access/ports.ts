import type { Grant, ResourceKind, TokenInfo, TokenRecord } from './model.ts';
import type { Permission } from './permissions.ts';

/** Tokens in the access table. */
export interface TokenStore {
  put(record: TokenRecord): Promise<void>;
  get(tokenId: string): Promise<TokenRecord | undefined>;
  /** Every token (admins) or one user's, oldest first. */
  list(user?: string): Promise<TokenInfo[]>;
  /** Marks the token revoked; false when no such token exists. */
  revoke(tokenId: string, at: number): Promise<boolean>;
}

/** Permission grants on experiments and registered models. */
export interface GrantStore {
  get(kind: ResourceKind, resource: string, user: string): Promise<Permission | undefined>;
  /** Creates a grant; false when one exists already (MLflow answers RESOURCE_ALREADY_EXISTS). */
  create(grant: Grant): Promise<boolean>;
  /** Changes an existing grant; false when there is none. */
  update(grant: Grant): Promise<boolean>;
  /** Writes a grant whether or not one exists (the creator's MANAGE). */
  put(grant: Grant): Promise<void>;
  delete(kind: ResourceKind, resource: string, user: string): Promise<boolean>;
  /** Every grant on one resource. */
  listForResource(kind: ResourceKind, resource: string): Promise<Grant[]>;
  /** One user's grants on one kind of resource (filters searches). */
  listForUser(kind: ResourceKind, user: string): Promise<Map<string, Permission>>;
}

/**
 * What authorization needs to know of other contexts' data: the experiment a run, a logged model or
 * a trace belongs to (MLflow: "run permissions inherit from the experiment"), the registered model an
 * endpoint serves (its grants are the model's).
 */
export interface ResourceLocator {
  experimentOfRun(runId: string): Promise<string | undefined>;
  experimentOfLoggedModel(modelId: string): Promise<string | undefined>;
  /** MLflow 3 traces follow their experiment's grants. */
  experimentOfTrace(traceId: string): Promise<string | undefined>;
  /** The experiments of many traces in one read (unknown traces left out). */
  experimentsOfTraces(traceIds: readonly string[]): Promise<Map<string, string>>;
  modelOfEndpoint(name: string): Promise<string | undefined>;
  /** The registered model of the endpoint a monitor watches (recorded on the monitor). */
  modelOfMonitor(name: string): Promise<string | undefined>;
}
