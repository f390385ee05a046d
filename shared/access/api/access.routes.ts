import * as z from 'zod';
import {
  ResourceAlreadyExistsError,
  ResourceDoesNotExistError,
  UnauthenticatedError,
} from '../../platform/errors.ts';
import type { HttpRequest } from '../../platform/http/http-request.ts';
import { defineOperation, type Operation } from '../../platform/http/operation.ts';
import { idString, int64 } from '../../platform/http/wire.ts';
import { type ResourceKind, type TokenInfo, userNameSchema } from '../model.ts';
import { permissionSchema } from '../permissions.ts';
import type { GrantStore } from '../ports.ts';
import type { TokenService } from '../token.service.ts';

const flag = () =>
  z.preprocess((value) => (value === 'true' ? true : value === 'false' ? false : value), z.boolean());

/** A token in answers: its id and metadata, never its hash. */
export function tokenToWire(info: TokenInfo) {
  return {
    token_id: info.tokenId,
    user: info.user,
    admin: info.admin,
    read_only: info.ceiling === 'READ',
    created_at: info.createdAt,
    created_by: info.createdBy,
    ...(info.description ? { description: info.description } : {}),
    ...(info.expiresAt !== undefined ? { expires_at: info.expiresAt } : {}),
    ...(info.revokedAt !== undefined ? { revoked_at: info.revokedAt } : {}),
  };
}

/** Who the caller is (`GET runway/whoami`): what the console shows, and how it checks a token. */
export interface WhoAmIWire {
  user: string;
  /** `token` (the token API) or `iam` (SigV4, or the local runtime without `--auth`). */
  kind: 'token' | 'iam';
  admin: boolean;
  read_only: boolean;
  token_id?: string;
}

/**
 * Runway's token API (`runway/tokens/...`) and MLflow's permission endpoints
 * (`mlflow/experiments/permissions/...`, `mlflow/registered-models/permissions/...`, with MLflow's
 * methods: POST create, GET get, PATCH update, DELETE delete). Permissions need MANAGE on the
 * resource (`policies.ts`); tokens are checked by the token service.
 */
export function accessOperations(deps: { tokens: TokenService; grants: GrantStore }): Operation[] {
  const caller = (request: HttpRequest) => {
    if (!request.principal) throw new UnauthenticatedError('You are not authenticated');
    return request.principal;
  };
  return [
    defineOperation({
      method: 'GET',
      path: 'runway/whoami',
      input: z.object({}),
      handle: (_input, request): WhoAmIWire => {
        const principal = caller(request);
        return {
          user: principal.name,
          kind: principal.kind,
          admin: principal.admin,
          read_only: principal.ceiling === 'READ',
          ...(principal.tokenId ? { token_id: principal.tokenId } : {}),
        };
      },
    }),
    defineOperation({
      method: 'POST',
      path: 'runway/tokens/create',
      input: z.object({
        user: userNameSchema,
        admin: flag().optional(),
        read_only: flag().optional(),
        expires_in_seconds: int64().optional(),
        description: z.string().max(1000).optional(),
      }),
      handle: async (input, request) => {
        const { token, info } = await deps.tokens.create(
          {
            user: input.user,
            admin: input.admin,
            readOnly: input.read_only,
            expiresInSeconds: input.expires_in_seconds,
            description: input.description,
          },
          caller(request),
        );
        return { token, token_info: tokenToWire(info) };
      },
    }),
    defineOperation({
      method: 'GET',
      path: 'runway/tokens/list',
      input: z.object({}),
      handle: async (_input, request) => {
        const tokens = await deps.tokens.list(caller(request));
        return tokens.length > 0 ? { tokens: tokens.map(tokenToWire) } : {};
      },
    }),
    defineOperation({
      method: 'POST',
      path: 'runway/tokens/revoke',
      input: z.object({ token_id: z.string().regex(/^[0-9a-f]{16}$/, 'must be a token id') }),
      handle: async ({ token_id }, request) => {
        await deps.tokens.revoke(token_id, caller(request));
        return {};
      },
    }),
    ...permissionOperations(deps.grants, 'experiment', 'experiments', 'experiment_id', idString()),
    ...permissionOperations(deps.grants, 'registered_model', 'registered-models', 'name', z.string().min(1)),
  ];
}

function permissionOperations(
  grants: GrantStore,
  kind: ResourceKind,
  resourcePath: string,
  field: 'experiment_id' | 'name',
  fieldSchema: z.ZodType<string>,
): Operation[] {
  const key = z.object({ [field]: fieldSchema, username: userNameSchema });
  const withPermission = key.extend({ permission: permissionSchema });
  const wireName = kind === 'experiment' ? 'experiment_permission' : 'registered_model_permission';
  const describe = (resource: string, user: string) =>
    `${kind === 'experiment' ? 'Experiment' : 'Registered model'} permission with ${field}=${resource} and username=${user}`;
  const toWire = (resource: string, user: string, permission: string) => ({
    [wireName]: { [field]: resource, username: user, permission },
  });
  const read = (input: Record<string, unknown>) => ({
    resource: String(input[field]),
    user: String(input.username),
  });
  return [
    defineOperation({
      method: 'POST',
      path: `mlflow/${resourcePath}/permissions/create`,
      input: withPermission,
      handle: async (input) => {
        const { resource, user } = read(input);
        const permission = input.permission as z.infer<typeof permissionSchema>;
        if (!(await grants.create({ kind, resource, user, permission }))) {
          throw new ResourceAlreadyExistsError(`${describe(resource, user)} already exists`);
        }
        return toWire(resource, user, permission);
      },
    }),
    defineOperation({
      method: 'GET',
      path: `mlflow/${resourcePath}/permissions/get`,
      input: key,
      handle: async (input) => {
        const { resource, user } = read(input);
        const permission = await grants.get(kind, resource, user);
        if (!permission) throw new ResourceDoesNotExistError(`${describe(resource, user)} not found`);
        return toWire(resource, user, permission);
      },
    }),
    defineOperation({
      method: 'PATCH',
      path: `mlflow/${resourcePath}/permissions/update`,
      input: withPermission,
      handle: async (input) => {
        const { resource, user } = read(input);
        const permission = input.permission as z.infer<typeof permissionSchema>;
        if (!(await grants.update({ kind, resource, user, permission }))) {
          throw new ResourceDoesNotExistError(`${describe(resource, user)} not found`);
        }
        return {};
      },
    }),
    defineOperation({
      method: 'DELETE',
      path: `mlflow/${resourcePath}/permissions/delete`,
      input: key,
      handle: async (input) => {
        const { resource, user } = read(input);
        if (!(await grants.delete(kind, resource, user))) {
          throw new ResourceDoesNotExistError(`${describe(resource, user)} not found`);
        }
        return {};
      },
    }),
  ];
}
