import { existsSync } from 'node:fs';
import path from 'node:path';
import { Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import {
  AllowedMethods,
  type BehaviorOptions,
  CachePolicy,
  Function as CloudFrontFunction,
  Distribution,
  FunctionCode,
  FunctionEventType,
  FunctionRuntime,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  HttpVersion,
  type IDistribution,
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

/** Where `npm run build` (run by `npm install`) writes the console's bundle. */
export const CONSOLE_BUNDLE = path.join(REPO_ROOT, 'console', 'dist');

export interface ConsoleHostingProps {
  /** The built bundle. @default `console/dist` */
  bundleDir?: string;
  /** Where the bucket's server access logs go (`StatefulStack.accessLogBucket`). */
  logBucket: IBucket;
  /**
   * The API origin the console calls, when it is not the console's own (e.g. the token API's
   * `https://<id>.execute-api.<region>.amazonaws.com`): allowed by the page's CSP. @default none:
   * the API is behind the same distribution
   */
  apiOrigin?: string;
}

/**
 * The console on AWS: its prebuilt bundle in a private bucket (no public access, no website
 * endpoint) that only CloudFront reads, through origin access control. {@link behavior} is the
 * distribution behaviour that serves it, for any distribution: with a CloudFront Function that
 * answers the client's routes with `index.html` (the SPA fallback, on this behaviour only, so the
 * API's own 403s and 404s on its behaviours are never rewritten), and the console's security
 * headers. {@link deploy} uploads the bundle and a `config.json` naming the API.
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
    const fallback = new CloudFrontFunction(this, 'SpaFallback', {
      comment: 'Runway console: client routes get index.html (this behaviour only)',
      runtime: FunctionRuntime.JS_2_0,
      code: FunctionCode.fromInline(SPA_FALLBACK),
    });
    const headers = new ResponseHeadersPolicy(this, 'Headers', {
      comment: 'Runway console: CSP and the usual security headers',
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy: consoleCsp(props.apiOrigin), override: true },
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
      allowedMethods: AllowedMethods.ALLOW_GET_HEAD,
      // Honours the files' Cache-Control: hashed assets for a year, index.html and config.json revalidated.
      cachePolicy: CachePolicy.CACHING_OPTIMIZED,
      compress: true,
      responseHeadersPolicy: headers,
      functionAssociations: [{ function: fallback, eventType: FunctionEventType.VIEWER_REQUEST }],
    };
  }

  /**
   * A distribution of the console's own, for a Runway whose public distribution does not carry it:
   * the console at its default behaviour, nothing else.
   */
  ownDistribution(logBucket: IBucket): Distribution {
    const distribution = new Distribution(this, 'Distribution', {
      comment: `Runway ${Stack.of(this).stackName}: console`,
      defaultBehavior: this.behavior,
      defaultRootObject: 'index.html',
      httpVersion: HttpVersion.HTTP2_AND_3,
      enableLogging: true,
      logBucket,
      logFilePrefix: 'cloudfront-console/',
    });
    Validations.of(distribution).acknowledge(
      {
        id: 'AwsSolutions-CFR4',
        reason:
          "The console's distribution uses CloudFront's own domain and certificate, whose minimum TLS version CloudFront sets; a custom domain with its own certificate can require TLS 1.2",
      },
      {
        id: 'AwsSolutions-CFR1',
        reason:
          "The console's static files are served wherever its users work; geo restriction is a deployment choice",
      },
      {
        id: 'AwsSolutions-CFR2',
        reason:
          'The distribution serves public static files only (the console bundle); every API call the console makes is authenticated by the token API',
      },
    );
    return distribution;
  }

  /**
   * Uploads the bundle: hashed `assets/` (cached a year; old ones kept for pages still open) and
   * `index.html` with `config.json` (`{"apiUrl": ...}`, revalidated on every load, so a deploy shows
   * within CloudFront's one-second minimum). No invalidation is needed, so the upload's role holds no
   * CloudFront permission.
   */
  deploy(options: { apiUrl: string; distribution?: IDistribution }): void {
    if (!existsSync(path.join(this.bundleDir, 'index.html'))) {
      throw new Error(
        `The console is not built (${this.bundleDir}): run npm run build (npm install runs it)`,
      );
    }
    const assets = new BucketDeployment(this, 'DeployAssets', {
      destinationBucket: this.bucket,
      sources: [Source.asset(this.bundleDir, { exclude: ['index.html', '**/*.map'] })],
      cacheControl: [CacheControl.fromString('public, max-age=31536000, immutable')],
      prune: false,
      memoryLimit: 256,
    });
    const entry = new BucketDeployment(this, 'DeployEntry', {
      destinationBucket: this.bucket,
      sources: [
        Source.asset(this.bundleDir, { exclude: ['assets', 'assets/**'] }),
        Source.jsonData('config.json', { apiUrl: options.apiUrl }),
      ],
      cacheControl: [CacheControl.noCache()],
      prune: false,
      memoryLimit: 256,
    });
    // The page must never name assets that are not there yet.
    entry.node.addDependency(assets);
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

/** CloudFront Function (viewer request): files are served as they are, anything else is a client route. */
const SPA_FALLBACK = `function handler(event) {
  var request = event.request;
  var uri = request.uri;
  if (uri.indexOf('/assets/') === 0 || uri === '/config.json' || uri === '/index.html') return request;
  request.uri = '/index.html';
  return request;
}`;

/** The console's CSP: its own files, calls to its origin (and the API's, when elsewhere), no framing. */
export function consoleCsp(apiOrigin?: string): string {
  const connect = apiOrigin ? `'self' ${apiOrigin}` : "'self'";
  return (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' blob: data:; " +
    `connect-src ${connect}; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'`
  );
}
