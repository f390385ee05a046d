import { existsSync } from 'node:fs';
import path from 'node:path';
import { Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import {
  AllowedMethods,
  type BehaviorOptions,
  CachePolicy,
  Function as CloudFrontFunction,
  FunctionCode,
  FunctionEventType,
  FunctionRuntime,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  ResponseHeadersPolicy,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type CfnBucket,
  type IBucket,
} from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, CacheControl, Source } from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { REPO_ROOT } from '../repo-root.ts';
import { type BucketContent, recordBucketContent } from './bucket-content.ts';

type ContentRule = BucketContent['rules'][number];

/** Where `npm run build` (run by `npm install`) writes the console's bundle. */
export const CONSOLE_BUNDLE = path.join(REPO_ROOT, 'console', 'dist');

/**
 * How the bundle is stored: hashed `assets/` for a year (a changed file is a new name; old ones stay
 * for pages still open), everything else (`index.html`, which names the current assets) revalidated
 * on every load, so a deploy shows at once without an invalidation. Sourcemaps stay home.
 */
export const CONSOLE_CONTENT: Omit<BucketContent, 'directory'> = {
  rules: [
    { prefix: 'assets/', cacheControl: 'public, max-age=31536000, immutable' },
    { prefix: '', cacheControl: 'no-cache' },
  ],
  excludeSuffixes: ['.map'],
};

export interface ConsoleHostingProps {
  /** The built bundle. @default `console/dist` */
  bundleDir?: string;
  /** Where the bucket's server access logs go (`StatefulStack.accessLogBucket`). */
  logBucket: IBucket;
}

/**
 * The console on AWS: its prebuilt bundle in a private bucket (no public access, no website
 * endpoint) that only CloudFront reads, through origin access control. {@link behavior} is the
 * behaviour that serves it as the default of Runway's public distribution (`RunwayDistribution`),
 * beside the API's and the artifacts' own behaviours, so the console calls the API on its own
 * origin. A CloudFront Function on this behaviour only ({@link CONSOLE_ROUTER}) answers a browser's
 * page loads of the client's routes with `index.html` and any other request with the API's JSON 404
 * (the API's own 403s and 404s on its behaviours are never rewritten); a response headers policy
 * adds the console's CSP and HSTS. {@link deploy} uploads the bundle.
 */
export class ConsoleHosting extends Construct {
  readonly bucket: Bucket;
  readonly behavior: BehaviorOptions;
  private readonly bundleDir: string;

  constructor(scope: Construct, id: string, props: ConsoleHostingProps) {
    super(scope, id);
    this.bundleDir = props.bundleDir ?? CONSOLE_BUNDLE;
    this.bucket = new Bucket(this, 'Bucket', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      serverAccessLogsBucket: props.logBucket,
      serverAccessLogsPrefix: 'console/',
      // Built files only: `cdk deploy` writes them again; a deleted stack leaves the bucket for its owner.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // The local runtime serves this bucket from the bundle folder itself (nothing is uploaded there).
    recordBucketContent(this.bucket.node.defaultChild as CfnBucket, {
      directory: this.bundleDir,
      ...CONSOLE_CONTENT,
    });
    const router = new CloudFrontFunction(this, 'SpaFallback', {
      comment: 'Runway console: page loads get index.html, other requests a JSON 404 (this behaviour only)',
      runtime: FunctionRuntime.JS_2_0,
      code: FunctionCode.fromInline(CONSOLE_ROUTER),
    });
    const headers = new ResponseHeadersPolicy(this, 'Headers', {
      comment: 'Runway console: CSP and the usual security headers',
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy: CONSOLE_CSP, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: HeadersReferrerPolicy.NO_REFERRER, override: true },
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(365),
          includeSubdomains: true,
          override: true,
        },
      },
    });
    this.behavior = {
      origin: S3BucketOrigin.withOriginAccessControl(this.bucket),
      viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      // Every method reaches the router, so a POST to a path no API behaviour takes gets the API's
      // JSON 404 rather than CloudFront's own 403 page. Only GET and HEAD ever reach the bucket, whose
      // policy lets CloudFront read (s3:GetObject) and nothing else.
      allowedMethods: AllowedMethods.ALLOW_ALL,
      // Honours the files' Cache-Control: hashed assets for a year, index.html revalidated.
      cachePolicy: CachePolicy.CACHING_OPTIMIZED,
      compress: true,
      responseHeadersPolicy: headers,
      functionAssociations: [{ function: router, eventType: FunctionEventType.VIEWER_REQUEST }],
    };
  }

  /**
   * Uploads the bundle by {@link CONSOLE_CONTENT}'s rules, the hashed assets first (the page must
   * never name assets that are not there yet). No invalidation is needed, so the upload's role holds
   * no CloudFront permission.
   */
  deploy(): void {
    if (!existsSync(path.join(this.bundleDir, 'index.html'))) {
      throw new Error(
        `The console is not built (${this.bundleDir}): run npm run build (npm install runs it)`,
      );
    }
    const source = Source.asset(this.bundleDir, {
      exclude: CONSOLE_CONTENT.excludeSuffixes.map((suffix) => `**/*${suffix}`),
    });
    const [assets, entry] = CONSOLE_CONTENT.rules as [ContentRule, ContentRule];
    const uploadAssets = new BucketDeployment(this, 'DeployAssets', {
      destinationBucket: this.bucket,
      sources: [source],
      exclude: ['*'],
      include: [`${assets.prefix}*`],
      cacheControl: [CacheControl.fromString(assets.cacheControl)],
      prune: false,
      memoryLimit: 256,
    });
    const uploadEntry = new BucketDeployment(this, 'DeployEntry', {
      destinationBucket: this.bucket,
      sources: [source],
      exclude: [`${assets.prefix}*`],
      cacheControl: [CacheControl.fromString(entry.cacheControl)],
      prune: false,
      memoryLimit: 256,
    });
    uploadEntry.node.addDependency(uploadAssets);
    this.acknowledgeDeploymentProvider();
  }

  /**
   * cdk-nag on the upload's provider function (CDK creates it once per stack): each finding
   * acknowledged by name, so anything else it were granted would still fail the check.
   */
  private acknowledgeDeploymentProvider(): void {
    const stack = Stack.of(this);
    const provider = stack.node.children.find((child) =>
      child.node.id.startsWith('Custom::CDKBucketDeployment'),
    );
    if (!provider) return;
    const bucket = stack.getLogicalId(this.bucket.node.defaultChild as CfnBucket);
    const findings: Array<[string, string]> = [
      [
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        "CDK's BucketDeployment provider (uploads the console bundle at deploy time) writes its own logs",
      ],
      ...['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:DeleteObject*', 's3:Abort*'].map(
        (action): [string, string] => [
          `AwsSolutions-IAM5[Action::${action}]`,
          `CDK's BucketDeployment provider reads the bundle from the CDK asset bucket and replaces the console bucket's files (${action} on those two buckets only)`,
        ],
      ),
      [
        `AwsSolutions-IAM5[Resource::<${bucket}.Arn>/*]`,
        "The console bucket's files are written by the upload under any key the bundle has",
      ],
      // CDK's bootstrap asset bucket: cdk-nag spells its ARN with or without resolved pseudo
      // parameters, depending on how much of the environment the app knows.
      ...bootstrapAssetArns(stack).map((arn): [string, string] => [
        `AwsSolutions-IAM5[Resource::${arn}/*]`,
        "The upload reads the bundle's zip from CDK's bootstrap asset bucket (its key is a content hash)",
      ]),
      [
        'AwsSolutions-L1',
        "CDK's BucketDeployment provider's runtime is chosen by aws-cdk-lib, which updates it",
      ],
    ];
    Validations.of(provider).acknowledge(...findings.map(([id, reason]) => ({ id, reason })));
  }
}

/** The spellings cdk-nag may give the default synthesizer's asset bucket ARN in this stack. */
function bootstrapAssetArns(stack: Stack): string[] {
  const either = (value: string, pseudo: string) => [Token.isUnresolved(value) ? pseudo : value, pseudo];
  const arns = ['aws', '<AWS::Partition>'].flatMap((partition) =>
    either(stack.account, '<AWS::AccountId>').flatMap((account) =>
      either(stack.region, '<AWS::Region>').map(
        (region) => `arn:${partition}:s3:::cdk-hnb659fds-assets-${account}-${region}`,
      ),
    ),
  );
  return [...new Set(arns)];
}

/**
 * The console behaviour's viewer-request function (CloudFront Functions, JavaScript 2.0). A browser's
 * page load (GET or HEAD accepting `text/html`) of any path gets `index.html`, so the client's routes
 * (`/experiments/1`, `/endpoints/fraud`) load the app; the bundle's files are served as they are. Any
 * other request reached this behaviour because no API behaviour takes its path: it gets the JSON 404
 * the API's `$default` route answers (`ENDPOINT_NOT_FOUND`), so the MLflow client and curl never see
 * HTML or the bucket's own errors.
 */
export const CONSOLE_ROUTER = `function handler(event) {
  var request = event.request;
  var uri = request.uri;
  var read = request.method === 'GET' || request.method === 'HEAD';
  if (read && (uri.indexOf('/assets/') === 0 || uri === '/index.html')) return request;
  var accept = request.headers.accept ? request.headers.accept.value : '';
  if (read && accept.indexOf('text/html') !== -1) {
    request.uri = '/index.html';
    return request;
  }
  return {
    statusCode: 404,
    statusDescription: 'Not Found',
    headers: { 'content-type': { value: 'application/json' }, 'cache-control': { value: 'no-store' } },
    body: {
      encoding: 'text',
      data: JSON.stringify({
        error_code: 'ENDPOINT_NOT_FOUND',
        message: 'No API endpoint matches ' + request.method + ' ' + uri,
      }),
    },
  };
}`;

/**
 * The console's CSP: scripts and styles from its own files only (no `eval`, no inline scripts), calls
 * to its own origin (the API and artifacts share it), images as blobs (artifact previews), no framing.
 */
export const CONSOLE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' blob: data:; " +
  "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
