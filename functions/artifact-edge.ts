/**
 * Lambda@Edge on the distribution's artifact behaviour (origin request and origin response): MLflow's
 * artifact `PUT` and `GET` of any size go between the client and the artifact bucket, never through
 * API Gateway or Lambda's payload. On the way in it checks the token, the path and the permission
 * (the API's own rules) without reading the body, and rewrites the URI to the object's key; on the
 * way out it gives S3's answers MLflow's shape. Its configuration is the origin's custom headers
 * (Lambda@Edge has no environment variables); its tables are in Runway's home region.
 */
import type { CloudFrontRequestEvent, CloudFrontResponseEvent } from 'aws-lambda';
import { artifactEdgeFor } from '../shared/tracking/artifacts/edge/artifact-edge.module.ts';
import { artifactOriginResponse } from '../shared/tracking/artifacts/edge/artifact-edge.ts';

export const handler = async (event: CloudFrontRequestEvent | CloudFrontResponseEvent) => {
  const cf = event.Records[0]?.cf;
  if (!cf) throw new Error('CloudFront event without a record');
  if ('response' in cf) return artifactOriginResponse(cf.request, cf.response);
  const edge = artifactEdgeFor(cf.request.origin?.s3?.customHeaders);
  return edge.originRequest(cf.request, cf.config.requestId);
};
