/**
 * The token API's Lambda REQUEST authorizer (payload 2.0, simple responses). API Gateway caches its
 * answer per `Authorization` header, so a token costs one GetItem per cache period. Refused
 * credentials are denied here, at the edge (API Gateway answers 403), so no function ever runs for
 * them; the reason and the token's public id are logged, never the credential.
 */
import type { APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { createAuthenticator } from '../shared/access/access.module.ts';
import { authorizerContext } from '../shared/access/principal.ts';
import { logger } from '../shared/platform/logger.ts';

const authenticator = createAuthenticator();

export const handler = async (event: APIGatewayRequestAuthorizerEventV2) => {
  const header = event.headers?.authorization ?? event.headers?.Authorization;
  const result = await authenticator.authenticate(header);
  if (!result.ok) {
    logger.info('credential refused', {
      reason: result.reason,
      tokenId: result.tokenId,
      route: event.routeKey,
    });
    return { isAuthorized: false };
  }
  return { isAuthorized: true, context: authorizerContext(result.principal) };
};
