import { PermissionDeniedError } from '../platform/errors.ts';
import type { Principal, ResourceKind } from './model.ts';
import { allows, lower, type Need, type Permission } from './permissions.ts';
import type { AccessRule, ResourceRef, SearchFilter } from './policies.ts';
import type { GrantStore, ResourceLocator } from './ports.ts';
import {
  type AuthorizerContext,
  assertNotRefused,
  principalFromContext,
  unauthenticated,
} from './principal.ts';

export interface AccessControlOptions {
  grants: GrantStore;
  locator: ResourceLocator;
  /** What a user may do on a resource without a grant (MLflow's `default_permission`). @default READ */
  defaultPermission?: Permission;
  /** IAM principals (ARNs; a trailing `*` matches a prefix) that are admins. */
  adminPrincipals?: readonly string[];
}

// biome-ignore lint/suspicious/noExplicitAny: responses are the operations' own JSON shapes.
type Output = any;

/**
 * Authorization as a layer around operations (MLflow's auth app `_before_request`/`_after_request`):
 * the HTTP handler asks it who is calling, whether the route's rule lets them, and lets it finish a
 * response (record the creator's MANAGE, filter searches). Services know nothing of it.
 */
export class AccessControl {
  readonly defaultPermission: Permission;
  private readonly adminPrincipals: readonly string[];

  constructor(private readonly options: AccessControlOptions) {
    this.defaultPermission = options.defaultPermission ?? 'READ';
    this.adminPrincipals = options.adminPrincipals ?? [];
  }

  /**
   * The caller, or 401 UNAUTHENTICATED saying why when the authorizer refused its credentials or the
   * request carries no identity (fail closed).
   */
  principalOf(requestContext: AuthorizerContext | undefined): Principal {
    assertNotRefused(requestContext);
    const principal = principalFromContext(requestContext, this.adminPrincipals);
    if (!principal) throw unauthenticated();
    return principal;
  }

  /** Throws 403 PERMISSION_DENIED unless the rule lets the principal make this request. */
  async authorize(principal: Principal, rule: AccessRule | undefined, input: unknown): Promise<void> {
    if (!rule) {
      if (isFullAdmin(principal)) return;
      throw new PermissionDeniedError(
        'Permission denied: this endpoint declares no access rule (admins only)',
      );
    }
    switch (rule.kind) {
      case 'public':
      case 'search':
        return;
      case 'authenticated':
        // Creating something is a write: a read-only token may not.
        if (rule.grantCreator && !allows(principal.ceiling, 'update'))
          throw denied(principal, 'create', 'this');
        return;
      case 'admin':
        if (!isFullAdmin(principal)) throw new PermissionDeniedError('Permission denied: admins only');
        return;
      case 'resources': {
        const refs = rule.resources(input);
        // Many traces (link-to-run names up to 100) are found with one read, and each experiment
        // is checked once.
        const traceIds = refs.flatMap((ref) => (ref.kind === 'trace' && ref.id !== '' ? [ref.id] : []));
        const traces =
          traceIds.length > 1 ? await this.options.locator.experimentsOfTraces(traceIds) : undefined;
        const checked = new Set<string>();
        for (const ref of refs) {
          const located: ResourceRef =
            traces && ref.kind === 'trace' ? { kind: 'experiment', id: traces.get(ref.id) ?? '' } : ref;
          // A trace that does not exist: the operation answers 404 as it would unauthenticated.
          if (traces && ref.kind === 'trace' && !traces.has(ref.id)) continue;
          const key = `${located.kind}\u0000${located.id}\u0000${ref.need ?? rule.need}`;
          if (checked.has(key)) continue;
          checked.add(key);
          await this.check(principal, located, ref.need ?? rule.need);
        }
        return;
      }
      case 'result':
        return;
    }
  }

  /** What follows a successful operation: checks on what was read, grants, search filtering. */
  async complete(
    principal: Principal,
    rule: AccessRule | undefined,
    input: Record<string, unknown>,
    output: Output,
    rerun: (input: Record<string, unknown>) => Promise<Output>,
  ): Promise<Output> {
    if (rule?.kind === 'result') {
      for (const ref of rule.resources(output)) await this.check(principal, ref, rule.need);
    } else if (rule?.kind === 'authenticated' && rule.grantCreator) {
      const { kind, resource } = rule.grantCreator(output);
      await this.options.grants.put({ kind, resource, user: principal.name, permission: 'MANAGE' });
    } else if (rule?.kind === 'search') {
      return this.filterSearch(principal, rule.filter, input, output, rerun);
    } else if (rule?.kind === 'resources' && rule.grantsFollow) {
      await this.followName(rule.grantsFollow(input));
    }
    return output;
  }

  /** A model's grants follow its name: moved on rename, dropped on delete (MLflow keys them by name). */
  private async followName(change: { dropGrantsOf: string } | { moveGrants: { from: string; to: string } }) {
    const { grants } = this.options;
    const from = 'dropGrantsOf' in change ? change.dropGrantsOf : change.moveGrants.from;
    for (const grant of await grants.listForResource('registered_model', from)) {
      if ('moveGrants' in change) await grants.put({ ...grant, resource: change.moveGrants.to });
      await grants.delete('registered_model', from, grant.user);
    }
  }

  /** The principal's effective permission on an experiment or a registered model. */
  async permissionOn(principal: Principal, kind: ResourceKind, resource: string): Promise<Permission> {
    if (principal.admin) return principal.ceiling;
    const granted =
      resource === '' ? undefined : await this.options.grants.get(kind, resource, principal.name);
    return lower(granted ?? this.defaultPermission, principal.ceiling);
  }

  private async check(principal: Principal, ref: ResourceRef, need: Need): Promise<void> {
    // An admin's permission is its ceiling on everything: no read is needed to find the resource.
    if (principal.admin && allows(principal.ceiling, need)) return;
    const target = await this.locate(ref);
    // A run, logged model or endpoint that does not exist: the operation answers 404 as it would unauthenticated.
    if (!target) return;
    const permission = await this.permissionOn(principal, target.kind, target.id);
    if (!allows(permission, need)) throw denied(principal, need, describe(target));
  }

  private async locate(ref: ResourceRef): Promise<{ kind: ResourceKind; id: string } | undefined> {
    if (ref.kind === 'experiment' || ref.kind === 'registered_model') return ref;
    if (ref.id === '') return undefined;
    const { locator } = this.options;
    if (ref.kind === 'endpoint' || ref.kind === 'monitor') {
      const model =
        ref.kind === 'endpoint'
          ? await locator.modelOfEndpoint(ref.id)
          : await locator.modelOfMonitor(ref.id);
      return model === undefined ? undefined : { kind: 'registered_model', id: model };
    }
    const experimentId =
      ref.kind === 'run'
        ? await locator.experimentOfRun(ref.id)
        : ref.kind === 'trace'
          ? await locator.experimentOfTrace(ref.id)
          : await locator.experimentOfLoggedModel(ref.id);
    return experimentId === undefined ? undefined : { kind: 'experiment', id: experimentId };
  }

  /**
   * MLflow's `filter_search_*`: drop what the caller may not read, and refill the page from the
   * following ones. Each refill asks for exactly the number still missing, so no result is ever cut
   * from a page and the next page token stays exact whatever its format.
   */
  private async filterSearch(
    principal: Principal,
    filter: SearchFilter,
    input: Record<string, unknown>,
    output: Output,
    rerun: (input: Record<string, unknown>) => Promise<Output>,
  ): Promise<Output> {
    if (principal.admin && allows(principal.ceiling, 'read')) return output;
    const first = (output?.[filter.items] ?? []) as unknown[];
    const grants = await this.options.grants.listForUser(filter.kind, principal.name);
    const defaultReadable = allows(lower(this.defaultPermission, principal.ceiling), 'read');
    const readable = (item: unknown) => {
      const permission = grants.get(filter.resourceOf(item)) ?? this.defaultPermission;
      return allows(lower(permission, principal.ceiling), 'read');
    };
    // Fast path: nothing the caller is denied, so nothing to filter.
    if (defaultReadable && [...grants.values()].every((p) => allows(lower(p, principal.ceiling), 'read'))) {
      return output;
    }
    const want = typeof input.max_results === 'number' ? input.max_results : first.length;
    const items = first.filter(readable);
    let token: string | undefined = output?.next_page_token;
    while (items.length < want && token) {
      const page = await rerun({ ...input, page_token: token, max_results: want - items.length });
      items.push(...((page?.[filter.items] ?? []) as unknown[]).filter(readable));
      token = page?.next_page_token;
    }
    const { [filter.items]: _all, next_page_token: _token, ...rest } = output ?? {};
    return {
      ...rest,
      ...(items.length > 0 ? { [filter.items]: items } : {}),
      ...(token ? { next_page_token: token } : {}),
    };
  }
}

function isFullAdmin(principal: Principal): boolean {
  return principal.admin && principal.ceiling === 'MANAGE';
}

function describe(target: { kind: ResourceKind; id: string }): string {
  return target.kind === 'experiment'
    ? target.id === ''
      ? 'artifacts outside any experiment'
      : `experiment ${target.id}`
    : `registered model '${target.id}'`;
}

function denied(principal: Principal, need: Need | 'create', what: string): PermissionDeniedError {
  return new PermissionDeniedError(`Permission denied: '${principal.name}' may not ${need} ${what}`);
}
