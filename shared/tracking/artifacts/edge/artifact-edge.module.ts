import { AccessControl } from '../../../access/access-control.ts';
import { DynamoGrantStore, DynamoTokenStore } from '../../../access/adapters/access.dynamodb-store.ts';
import { DynamoResourceLocator } from '../../../access/adapters/resource-locator.dynamodb.ts';
import { CachingAuthenticator } from '../../../access/authentication-cache.ts';
import { TokenAuthenticator } from '../../../access/authenticator.ts';
import { dynamoDocumentClient } from '../../../platform/aws/dynamodb.ts';
import { s3Client } from '../../../platform/aws/s3.ts';
import { logger } from '../../../platform/logger.ts';
import { S3ArtifactStore } from '../adapters/artifact.s3-store.ts';
import { ArtifactService } from '../artifact.service.ts';
import { ArtifactEdge } from './artifact-edge.ts';
import { type CloudFrontHeaderMap, edgeConfigFrom } from './edge-config.ts';

/**
 * Roots the artifact listings of the API read; the edge serves files only, so it has none (and its
 * role may not read the tracking table). Asked anyway, it fails: a 500, never a pass.
 */
const NO_ROOTS = {
  artifactUri: () => Promise.reject(new Error('artifact roots are not read at the edge')),
  artifactLocation: () => Promise.reject(new Error('artifact roots are not read at the edge')),
};

const edges = new Map<string, ArtifactEdge>();

/**
 * Composition root of the artifact edge, per configuration (one per distribution origin, in
 * practice one per container): the token check with the authorizer's 60 s cache, the API's access
 * control over the access table, and the artifact store for deletions, all in Runway's home region
 * whatever edge location runs the function.
 */
export function artifactEdgeFor(customHeaders: CloudFrontHeaderMap | undefined): ArtifactEdge {
  const config = edgeConfigFrom(customHeaders);
  const key = JSON.stringify(config);
  let edge = edges.get(key);
  if (!edge) {
    const dynamo = dynamoDocumentClient(config.region);
    const authenticator = new CachingAuthenticator(
      new TokenAuthenticator(new DynamoTokenStore(config.accessTable, dynamo)),
    );
    edge = new ArtifactEdge({
      authenticate: (header) => authenticator.authenticate(header),
      access: new AccessControl({
        grants: new DynamoGrantStore(config.accessTable, dynamo),
        // Artifact rules name the experiment in the path: no run or endpoint is ever looked up.
        locator: new DynamoResourceLocator({}, dynamo),
        defaultPermission: config.defaultPermission,
      }),
      service: new ArtifactService({
        store: new S3ArtifactStore({
          bucket: config.artifactBucket,
          keyPrefix: config.keyPrefix,
          client: s3Client(config.region),
        }),
        runs: NO_ROOTS,
        loggedModels: NO_ROOTS,
      }),
      keyPrefix: config.keyPrefix,
      logger,
    });
    edges.set(key, edge);
  }
  return edge;
}
