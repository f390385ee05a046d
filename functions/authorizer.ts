/**
 * The token API's Lambda REQUEST authorizer (payload 2.0, simple responses, no identity source and no
 * API Gateway cache: it runs on every request, the header or not). It never denies: API Gateway's
 * denials are a bare 401/403, not MLflow's errors. Refused credentials pass with a context that says
 * why (`{ refused: reason }`), and the function answers MLflow's 401 UNAUTHENTICATED. Answers are
 * cached in the container for 60 s per `Authorization` header (`CachingAuthenticator`), so a token
 * costs one GetItem per minute per container. The reason and the token's public id are logged, never
 * the credential.
 */
import type { APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { createAuthenticator } from '../shared/access/access.module.ts';
import { CachingAuthenticator } from '../shared/access/authentication-cache.ts';
import { authorizerContext, refusedContext } from '../shared/access/principal.ts';
import { logger } from '../shared/platform/logger.ts';

const authenticator = new CachingAuthenticator(createAuthenticator());

export const handler = async (event: APIGatewayRequestAuthorizerEventV2) => {
  const header = event.headers?.authorization ?? event.headers?.Authorization;
  const result = await authenticator.authenticate(header);
  if (!result.ok) {
    logger.info('credential refused', {
      reason: result.reason,
      tokenId: result.tokenId,
      route: event.routeKey,
    });
    return { isAuthorized: true, context: refusedContext(result.reason) };
  }
  return { isAuthorized: true, context: authorizerContext(result.principal) };
};
