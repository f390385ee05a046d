import * as z from 'zod';
import { envVar, parseConfig } from '../platform/config.ts';
import type { Operation } from '../platform/http/operation.ts';
import { AccessControl } from './access-control.ts';
import { DynamoGrantStore, DynamoTokenStore } from './adapters/access.dynamodb-store.ts';
import { DynamoResourceLocator } from './adapters/resource-locator.dynamodb.ts';
import { accessOperations } from './api/access.routes.ts';
import { TokenAuthenticator } from './authenticator.ts';
import { permissionSchema } from './permissions.ts';
import { TokenService } from './token.service.ts';

/** What every API function reads to check access, once at cold start. */
export function accessConfig(env: NodeJS.ProcessEnv = process.env) {
  return parseConfig(
    {
      ACCESS_TABLE_NAME: envVar.name(),
      /** Finds the experiment of a run or logged model; functions that never need it lack it. */
      TRACKING_TABLE_NAME: z.string().optional(),
      /** Finds the registered model of an endpoint; functions that never need it lack it. */
      DEPLOYMENTS_TABLE_NAME: z.string().optional(),
      /** Finds the registered model of a monitor; functions that never need it lack it. */
      MONITORING_TABLE_NAME: z.string().optional(),
      /** MLflow's `default_permission`: what users may do without a grant. */
      RUNWAY_DEFAULT_PERMISSION: permissionSchema.default('READ'),
      /** Comma-separated IAM principal ARNs (a trailing `*` matches a prefix) that are admins. */
      RUNWAY_ADMIN_PRINCIPALS: z
        .string()
        .default('')
        .transform((value) =>
          value
            .split(',')
            .map((entry) => entry.trim())
            .filter(Boolean),
        ),
    },
    env,
  );
}

/** The access layer of an API function, from its environment. */
export function accessControlFromEnv(env: NodeJS.ProcessEnv = process.env): AccessControl {
  const config = accessConfig(env);
  const locator = new DynamoResourceLocator({
    tracking: config.TRACKING_TABLE_NAME,
    deployments: config.DEPLOYMENTS_TABLE_NAME,
    monitoring: config.MONITORING_TABLE_NAME,
  });
  return new AccessControl({
    grants: new DynamoGrantStore(config.ACCESS_TABLE_NAME),
    locator,
    defaultPermission: config.RUNWAY_DEFAULT_PERMISSION,
    adminPrincipals: config.RUNWAY_ADMIN_PRINCIPALS,
  });
}

/** Composition root of the access API: tokens and MLflow's permission endpoints. */
export function createAccessApi(env: NodeJS.ProcessEnv = process.env): {
  operations: Operation[];
  access: AccessControl;
} {
  const config = accessConfig(env);
  return {
    operations: accessOperations({
      tokens: new TokenService(new DynamoTokenStore(config.ACCESS_TABLE_NAME)),
      grants: new DynamoGrantStore(config.ACCESS_TABLE_NAME),
    }),
    access: accessControlFromEnv(env),
  };
}

/** The token authorizer's authenticator, from its environment. */
export function createAuthenticator(env: NodeJS.ProcessEnv = process.env): TokenAuthenticator {
  const config = parseConfig({ ACCESS_TABLE_NAME: envVar.name() }, env);
  return new TokenAuthenticator(new DynamoTokenStore(config.ACCESS_TABLE_NAME));
}
