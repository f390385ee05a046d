import { Annotations, CfnOutput, Fn, Stack, Validations } from 'aws-cdk-lib';
import type { IHttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  AllowedMethods,
  type BehaviorOptions,
  CachePolicy,
  Distribution,
  HttpVersion,
  LambdaEdgeEventType,
  OriginProtocolPolicy,
  OriginRequestPolicy,
  S3OriginAccessControl,
  Signing,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { HttpOrigin, S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IManagedPolicy } from 'aws-cdk-lib/aws-iam';
import { Bucket, type IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { EDGE_ARTIFACT_PREFIXES } from '../../shared/tracking/artifacts/edge/artifact-edge.ts';
import { EDGE_CONFIG_HEADERS } from '../../shared/tracking/artifacts/edge/edge-config.ts';
import { RunwayEdgeFunction } from './runway-edge-function.ts';

/**
 * The paths of the API's routes (CloudFront path patterns), each a behaviour of its own: its MLflow
 * and Runway prefixes, the health checks, OTLP span ingestion (MLflow's `POST /v1/traces`), the
 * model invocations (`POST /endpoints/{name}/invocations`) and their feedback
 * (`POST /endpoints/{name}/feedback`).
 * Nothing wider: the rest is the default behaviour's (the console, whose client routes include
 * `/endpoints/<name>`). An infra test checks that every route of the API falls under one of these.
 */
export const API_PATH_PATTERNS = [
  '/api/*',
  '/ajax-api/*',
  '/health',
  '/version',
  '/v1/traces',
  '/endpoints/*/invocations',
  '/endpoints/*/feedback',
] as const;

export interface RunwayDistributionProps {
  /** The HTTP API behind the public URL: the token API (SigV4 cannot pass CloudFront, see docs/artifacts.md). */
  api: IHttpApi;
  /** The artifact bucket, reached through origin access control. */
  artifactBucket: IBucket;
  /** Tokens and grants, read by the edge function. */
  accessTable: ITable;
  /** What the edge function may do (`StatefulStack.artifactEdgePolicy`, attached by its literal name). */
  edgePolicy: IManagedPolicy;
  /** MLflow's `default_permission`. @default 'READ' */
  defaultPermission?: string;
  /** Where CloudFront writes its standard logs (a bucket with ACLs enabled). */
  logBucket: IBucket;
  /** The edge function's literal name (and its role's): unique per Runway and home region. */
  edgeFunctionName: string;
  /** The us-east-1 stack that holds the edge function when this stack is elsewhere. */
  edgeStackId: string;
  /**
   * What `/` and any path no other behaviour takes is served by: in Runway's app, the console (its
   * private bucket, `ConsoleHosting.behavior`). Every API path keeps a behaviour of its own, so the
   * API is unchanged whatever this is. @default the API
   */
  defaultBehavior?: BehaviorOptions;
}

/**
 * Runway's one public URL: a CloudFront distribution in front of the token API, with the artifact
 * proxy's file paths (`/api/2.0/mlflow-artifacts/artifacts/*` and the `/ajax-api/` twin) routed to
 * the artifact bucket through a Lambda@Edge check (`functions/artifact-edge.ts`), so that the stock
 * MLflow client's single `PUT` and `GET` of a file of any size (up to S3's 5 GiB) never meet API
 * Gateway's 10 MB or Lambda's 6 MB. Nothing is cached: every request reaches its origin, so access
 * checks see every request. Idle, it costs nothing (CloudFront and Lambda@Edge bill per request).
 *
 * The console is its default behaviour (`defaultBehavior`), so the console, the MLflow client and
 * artifacts share one URL and the console calls the API on its own origin; the API and artifact paths
 * keep their own behaviours either way.
 */
export class RunwayDistribution extends Construct {
  readonly distribution: Distribution;
  readonly edgeFunction: RunwayEdgeFunction;
  /** The API behaviour's options, to reuse for paths a caller adds. */
  readonly apiBehavior: BehaviorOptions;

  constructor(scope: Construct, id: string, props: RunwayDistributionProps) {
    super(scope, id);
    const stack = Stack.of(this);

    this.edgeFunction = new RunwayEdgeFunction(this, 'ArtifactEdge', {
      entry: 'functions/artifact-edge.ts',
      description: 'Runway: checks token, path and permission of artifact PUT/GET/DELETE at the edge',
      name: props.edgeFunctionName,
      edgeStackId: props.edgeStackId,
      managedPolicies: [props.edgePolicy],
    });
    const apiDomain = Fn.select(2, Fn.split('/', props.api.apiEndpoint));
    this.apiBehavior = {
      origin: new HttpOrigin(apiDomain, { protocolPolicy: OriginProtocolPolicy.HTTPS_ONLY }),
      viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
      allowedMethods: AllowedMethods.ALLOW_ALL,
      cachePolicy: CachePolicy.CACHING_DISABLED,
      // Everything the API reads (Authorization included, which only this managed policy may forward
      // with caching off); Host stays the API's own, which API Gateway routes by.
      originRequestPolicy: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
    };

    // The bucket is the stateful stack's: its policy there admits this account's distributions (an
    // imported reference here keeps CDK from writing a policy that would make the two stacks depend
    // on each other).
    const bucket = Bucket.fromBucketAttributes(this, 'ArtifactBucketRef', {
      bucketName: props.artifactBucket.bucketName,
      bucketArn: props.artifactBucket.bucketArn,
      bucketRegionalDomainName: props.artifactBucket.bucketRegionalDomainName,
    });
    const artifactOrigin = S3BucketOrigin.withOriginAccessControl(bucket, {
      originAccessControl: new S3OriginAccessControl(this, 'ArtifactAccessControl', {
        description: 'Runway: CloudFront signs artifact requests to the artifact bucket',
        signing: Signing.SIGV4_ALWAYS,
      }),
      customHeaders: {
        [EDGE_CONFIG_HEADERS.region]: stack.region,
        [EDGE_CONFIG_HEADERS.accessTable]: props.accessTable.tableName,
        [EDGE_CONFIG_HEADERS.artifactBucket]: props.artifactBucket.bucketName,
        [EDGE_CONFIG_HEADERS.defaultPermission]: props.defaultPermission ?? 'READ',
      },
    });
    const artifactBehavior: BehaviorOptions = {
      origin: artifactOrigin,
      // Artifacts go out byte for byte, as stored (and CloudFront compresses only what it caches).
      compress: false,
      viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
      allowedMethods: AllowedMethods.ALLOW_ALL,
      cachePolicy: CachePolicy.CACHING_DISABLED,
      // The edge function reads the viewer's Authorization, Content-Length and Content-Type; it
      // passes on to S3 only what storing or serving the bytes needs.
      originRequestPolicy: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
      edgeLambdas: [
        {
          functionVersion: this.edgeFunction.fn.currentVersion,
          eventType: LambdaEdgeEventType.ORIGIN_REQUEST,
        },
        {
          functionVersion: this.edgeFunction.fn.currentVersion,
          eventType: LambdaEdgeEventType.ORIGIN_RESPONSE,
        },
      ],
    };

    // The statement CDK would add to an owned bucket's policy is the stateful stack's own.
    Annotations.of(this).acknowledgeWarning(
      '@aws-cdk/aws-cloudfront-origins:updateImportedBucketPolicyOac',
      "The artifact bucket's policy admits CloudFront in the stateful stack (RunwayDistributionArtifacts)",
    );
    this.distribution = new Distribution(this, 'Distribution', {
      comment: `Runway ${stack.stackName}: MLflow API, artifacts of any size, console`,
      defaultBehavior: props.defaultBehavior ?? this.apiBehavior,
      httpVersion: HttpVersion.HTTP2_AND_3,
      enableLogging: true,
      logBucket: props.logBucket,
      logFilePrefix: 'cloudfront/',
    });
    // Behaviours are matched in the order they are added: the artifact files before the API's `/api/*`.
    for (const prefix of EDGE_ARTIFACT_PREFIXES)
      this.distribution.addBehavior(`${prefix}*`, artifactOrigin, artifactBehavior);
    for (const pattern of API_PATH_PATTERNS) {
      this.distribution.addBehavior(pattern, this.apiBehavior.origin, this.apiBehavior);
    }
    Validations.of(this.distribution).acknowledge(
      {
        id: 'AwsSolutions-CFR4',
        reason:
          "The distribution uses CloudFront's own domain and certificate, whose minimum TLS version CloudFront sets; a custom domain with its own certificate can require TLS 1.2",
      },
      {
        id: 'AwsSolutions-CFR1',
        reason: 'Runway serves its users wherever they work; geo restriction is a deployment choice',
      },
      {
        id: 'AwsSolutions-CFR2',
        reason:
          'Every request is authenticated (token check at the edge or in the API) and the API stage is throttled; WAF is an optional paid add-on',
      },
    );

    new CfnOutput(stack, 'RunwayUrl', {
      value: `https://${this.distribution.distributionDomainName}`,
      description:
        'Runway: the console (open it in a browser) and MLFLOW_TRACKING_URI for token clients (the API, artifacts of any size)',
    });
  }
}
