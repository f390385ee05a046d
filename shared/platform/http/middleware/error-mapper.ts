import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { RunwayError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import { type ApiResponse, errorResponse } from '../error-response.ts';

/**
 * Maps any error to MLflow's error body (see `errorResponse`). Client errors are logged at info
 * level without their stack; anything else is logged as an error with its stack and cause.
 */
export const errorMapper = (opts: {
  logger: Logger;
}): MiddlewareObj<APIGatewayProxyEventV2, ApiResponse> => ({
  onError: (request) => {
    const { error } = request;
    if (error instanceof RunwayError && error.expose) {
      opts.logger.info('client error', { errorCode: error.errorCode, detail: error.message });
    } else {
      opts.logger.error('unhandled error', { error });
    }
    request.response = errorResponse(error, request.event.requestContext.requestId);
  },
});
