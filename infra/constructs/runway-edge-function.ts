import path from 'node:path';
import { AssetHashType, Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import { experimental } from 'aws-cdk-lib/aws-cloudfront';
import { type IManagedPolicy, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, type CfnFunction, Code, Runtime } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { buildSync } from 'esbuild';
import { REPO_ROOT } from '../repo-root.ts';
import { ENTRY_METADATA } from './runway-function.ts';

/** Lambda@Edge functions live in US East (N. Virginia), whatever the distribution's stack region. */
export const EDGE_REGION = 'us-east-1';

export interface RunwayEdgeFunctionProps {
  /** The entry file, relative to the repository root, e.g. `functions/artifact-edge.ts`. */
  entry: string;
  description: string;
  /**
   * The function's and its role's name: literal, because the function lives in us-east-1 and the
   * policies that name Runway's tables are attached from the home region (a cross-region reference
   * to a generated name is impossible). Unique per Runway and home region.
   */
  name: string;
  /** The us-east-1 stack that holds the function when the distribution's stack is elsewhere. */
  edgeStackId: string;
  /**
   * What the function may do besides writing its logs: policies with literal names, defined beside
   * the resources they name (the stateful stack), so that a role in us-east-1 can attach them.
   */
  managedPolicies: readonly IManagedPolicy[];
  /** @default 512 (MB): origin-event functions may have up to 10,240; more memory is a faster cold start. */
  memorySize?: number;
  /** @default 30 seconds, the most CloudFront allows an origin-request function. */
  timeout?: Duration;
}

/**
 * A Lambda@Edge function built from a Runway entry: bundled by esbuild as ESM, Node.js 24 on x86_64
 * (Lambda@Edge supports neither arm64 nor environment variables), no X-Ray, in us-east-1 (CDK's
 * `EdgeFunction` puts it there and reads its version's ARN back into the distribution's region).
 * Its role has a literal name and holds its own log groups, which Lambda@Edge creates in every
 * region it runs in (`/aws/lambda/us-east-1.<name>`), and the managed policies it is given. Its entry
 * is recorded in metadata for the local runtime.
 */
export class RunwayEdgeFunction extends Construct {
  readonly fn: experimental.EdgeFunction;
  readonly role: Role;
  /** The function's and its role's literal name. */
  readonly name: string;

  constructor(scope: Construct, id: string, props: RunwayEdgeFunctionProps) {
    super(scope, id);
    this.name = props.name;
    const home = Stack.of(this);
    // In us-east-1 the function and its role sit in the distribution's own stack, as EdgeFunction does.
    const edgeStack =
      home.region === EDGE_REGION
        ? home
        : ((home.node.root.node.tryFindChild(props.edgeStackId) as Stack | undefined) ??
          new Stack(home.node.root as Construct, props.edgeStackId, {
            env: { region: EDGE_REGION, account: home.account },
            description: 'Runway: Lambda@Edge functions (CloudFront runs them from US East (N. Virginia))',
          }));
    this.role = new Role(edgeStack === home ? this : edgeStack, `${id}Role`, {
      roleName: props.name,
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs ${props.entry} at CloudFront's edge`,
    });
    for (const policy of props.managedPolicies) {
      this.role.addManagedPolicy(policy);
      // A policy of another region's stack is attached by its name: it must exist first.
      if (Stack.of(policy) !== Stack.of(this.role)) Stack.of(this.role).addStackDependency(Stack.of(policy));
    }
    const roleStack = Stack.of(this.role);
    const logGroup = `log-group:/aws/lambda/${EDGE_REGION}.${props.name}`;
    const logGroups = [
      `arn:${roleStack.partition}:logs:*:${roleStack.account}:${logGroup}`,
      `arn:${roleStack.partition}:logs:*:${roleStack.account}:${logGroup}:*`,
    ];
    this.role.addToPolicy(
      new PolicyStatement({
        actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: logGroups,
      }),
    );
    // As cdk-nag prints the resources: tokens as `<AWS::...>`.
    const printed = (arn: string) =>
      arn
        .replace(
          roleStack.partition,
          Token.isUnresolved(roleStack.partition) ? '<AWS::Partition>' : roleStack.partition,
        )
        .replace(
          roleStack.account,
          Token.isUnresolved(roleStack.account) ? '<AWS::AccountId>' : roleStack.account,
        );
    Validations.of(this.role).acknowledge(
      ...logGroups.map((arn) => ({
        id: `AwsSolutions-IAM5[Resource::${printed(arn)}]`,
        reason:
          'Lambda@Edge writes its logs to this one log group in whichever region runs it (any region), and to its streams',
      })),
    );
    this.fn = new experimental.EdgeFunction(this, 'Function', {
      stackId: props.edgeStackId,
      functionName: props.name,
      description: props.description,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.X86_64,
      handler: 'index.handler',
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(30),
      role: this.role,
      code: bundle(props.entry),
    });
    (this.fn.lambda.node.defaultChild as CfnFunction).addMetadata(ENTRY_METADATA, props.entry);
  }
}

/**
 * The entry bundled by esbuild at synth (skipped when the app skips bundling, as the local runtime
 * and the tests do): one minified ESM file, the AWS SDK left to the runtime.
 */
function bundle(entry: string): Code {
  return Code.fromAsset(REPO_ROOT, {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      image: Runtime.NODEJS_24_X.bundlingImage,
      local: {
        tryBundle(outputDir: string) {
          buildSync({
            entryPoints: [path.join(REPO_ROOT, entry)],
            outfile: path.join(outputDir, 'index.mjs'),
            bundle: true,
            platform: 'node',
            format: 'esm',
            target: 'node24',
            minify: true,
            sourcemap: false,
            external: ['@aws-sdk/*', '@smithy/*'],
            banner: {
              js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
            },
            logLevel: 'warning',
          });
          return true;
        },
      },
    },
  });
}
