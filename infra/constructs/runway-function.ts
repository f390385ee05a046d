import path from 'node:path';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { ITable, ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { type IManagedPolicy, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, type CfnFunction, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { REPO_ROOT } from '../repo-root.ts';

/**
 * Item reads and writes: every one of them carries the partition keys it touches, so a
 * `dynamodb:LeadingKeys` condition holds for each (DescribeTable and Scan carry none and would pass
 * a `ForAllValues` condition unchecked: no function here calls them).
 */
const TABLE_READ_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:ConditionCheckItem',
];
const TABLE_WRITE_ACTIONS = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
];

/** esbuild hooks that copy the listed files of external packages into the asset after bundling. */
function copyPackages(packages: readonly ExternalPackage[]) {
  return {
    beforeBundling: () => [],
    beforeInstall: () => [],
    afterBundling: (inputDir: string, outputDir: string) =>
      packages.flatMap((pkg) =>
        pkg.paths.map((file) => {
          const from = path.posix.join(inputDir, 'node_modules', pkg.name, file);
          const into = path.posix.join(outputDir, 'node_modules', pkg.name, path.posix.dirname(file));
          return `mkdir -p "${into}" && cp -R "${from}" "${into}/"`;
        }),
      ),
  };
}

/** Metadata key telling the local runtime which source file a function runs. */
export const ENTRY_METADATA = 'runway:entry';

export type AccessMode = 'read' | 'readWrite';

export interface RunwayFunctionProps {
  /** The entry file, relative to the repository root, e.g. `functions/tracking-api.ts`. */
  entry: string;
  /** @default 'handler' */
  handler?: string;
  /** @default 1024 (MB): more memory is more CPU, which shortens cold starts and JSON work. */
  memorySize?: number;
  /** @default 29 seconds, API Gateway's own integration limit. */
  timeout?: Duration;
  /** @default one month */
  logRetention?: RetentionDays;
  /** Extra environment variables. */
  environment?: Record<string, string>;
  description?: string;
  /**
   * Packages esbuild cannot bundle (native addons): left out of the bundle and copied into the
   * asset's `node_modules`, only the listed paths of each (so the binaries of other platforms stay out).
   * @default none
   */
  externalPackages?: readonly ExternalPackage[];
}

/** A package shipped beside the bundle, as files: `paths` are relative to the package's folder. */
export interface ExternalPackage {
  name: string;
  paths: readonly string[];
}

/**
 * Every Runway function: Node.js 24 (the latest Lambda runtime) on arm64, bundled by esbuild as minified ESM, X-Ray tracing, its
 * own log group with a retention, and a role that holds nothing but what `bind*` grants (no AWS
 * managed policies). The entry path is recorded in metadata so the local runtime runs the same source.
 */
export class RunwayFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: RunwayFunctionProps) {
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new Role(scope, `${id}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs ${props.entry}`,
    });
    super(scope, id, {
      entry: path.join(REPO_ROOT, props.entry),
      handler: props.handler ?? 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 1024,
      timeout: props.timeout ?? Duration.seconds(29),
      tracing: Tracing.ACTIVE,
      logGroup,
      role,
      description: props.description,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        LOG_LEVEL: 'info',
        ...props.environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node24',
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        mainFields: ['module', 'main'],
        // The runtime provides AWS SDK v3; bundling it again would triple the size and cold start.
        externalModules: ['@aws-sdk/*', '@smithy/*', ...(props.externalPackages ?? []).map((p) => p.name)],
        ...(props.externalPackages?.length ? { commandHooks: copyPackages(props.externalPackages) } : {}),
        // Some dependencies are CommonJS and call require(); give ESM bundles a require.
        banner: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
      },
    });
    logGroup.grantWrite(role);
    (this.node.defaultChild as CfnFunction).addMetadata(ENTRY_METADATA, props.entry);
    // X-Ray has no resource-level permissions; the tracing grant CDK adds is necessarily on '*'.
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions',
    });
  }

  /**
   * Grants data access to a table and passes the table's name in `envName`. With `leadingKeys`, the
   * grant holds only for items whose partition key matches one of the patterns (`RUN#*`): what a
   * function whose keys have a known prefix should get. Indexes are named (no `index/*`): a list
   * grants Query on each, a record grants Query on each only for the partition values given
   * (`{ gsi1: ['ENDPOINTS'] }`). `writes` narrows the write actions of `readWrite`.
   */
  bindTable(
    table: ITable | ITableV2,
    options: {
      accessMode: AccessMode;
      envName: string;
      leadingKeys?: readonly string[];
      indexes?: readonly string[] | Readonly<Record<string, readonly string[]>>;
      writes?: readonly ('PutItem' | 'UpdateItem' | 'DeleteItem' | 'BatchWriteItem')[];
    },
  ): this {
    const writes = options.writes?.map((action) => `dynamodb:${action}`) ?? TABLE_WRITE_ACTIONS;
    const actions = options.accessMode === 'read' ? TABLE_READ_ACTIONS : [...TABLE_READ_ACTIONS, ...writes];
    const byKeys = (keys: readonly string[] | undefined) =>
      keys ? { conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...keys] } } } : {};
    const indexes = options.indexes ?? [];
    const unconditioned = Array.isArray(indexes) ? (indexes as readonly string[]) : [];
    const indexArn = (index: string) => `${table.tableArn}/index/${index}`;
    this.addToRolePolicy(
      new PolicyStatement({
        actions,
        resources: [table.tableArn, ...(options.leadingKeys ? [] : unconditioned.map(indexArn))],
        ...byKeys(options.leadingKeys),
      }),
    );
    if (options.leadingKeys && unconditioned.length > 0) {
      this.addToRolePolicy(
        new PolicyStatement({ actions: ['dynamodb:Query'], resources: unconditioned.map(indexArn) }),
      );
    }
    if (!Array.isArray(indexes)) {
      for (const [index, partitions] of Object.entries(indexes as Record<string, readonly string[]>)) {
        this.addToRolePolicy(
          new PolicyStatement({
            actions: ['dynamodb:Query'],
            resources: [indexArn(index)],
            ...byKeys(partitions),
          }),
        );
      }
    }
    this.addEnvironment(options.envName, table.tableName);
    return this;
  }

  /**
   * Attaches a customer-managed policy of the stateful stack (e.g. the artifact bucket's object
   * access, which must name `<bucket>/*` and is best justified where the bucket lives) and passes a
   * value in `envName`.
   */
  bindPolicy(policy: IManagedPolicy, options?: { envName: string; value: string }): this {
    this.role!.addManagedPolicy(policy);
    if (options) this.addEnvironment(options.envName, options.value);
    return this;
  }

  /** Allows putting events on the bus and passes its name in `envName`. */
  bindEventBus(bus: IEventBus, options: { envName: string }): this {
    bus.grantPutEventsTo(this);
    this.addEnvironment(options.envName, bus.eventBusName);
    return this;
  }

  /** Adds a statement to the function's own role (least privilege: name actions and resources). */
  allow(statement: PolicyStatement): this {
    this.addToRolePolicy(statement);
    return this;
  }
}
