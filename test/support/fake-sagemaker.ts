import * as z from 'zod';
import { SdkSageMakerResources } from '../../shared/deployments/deploy/adapters/sagemaker-resources.sdk.ts';

/**
 * A stand-in for the SageMaker and CloudWatch APIs behind the deploy state machine's `aws-sdk:`
 * task states (there is no SageMaker emulator). Every request is checked against the shape the AWS
 * API reference gives for it (required members, name patterns, enums, ranges; unknown members are
 * refused, as the SDK's serializer would drop them and the service would miss them), and answered as
 * SageMaker answers: names unique per resource type, endpoints that go Creating/Updating ->
 * InService, a Failed create, or a blue/green update rolled back by an alarm.
 */

/** `^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}` (ModelName, EndpointName, EndpointConfigName, VariantName). */
const resourceName = z.string().regex(/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/);
const tags = z
  .array(z.object({ Key: z.string().min(1).max(128), Value: z.string().max(256) }).strict())
  .max(50);
const capacity = z
  .object({ Type: z.enum(['INSTANCE_COUNT', 'CAPACITY_PERCENT']), Value: z.number().int().min(1) })
  .strict();

/** ListModels, ListEndpointConfigs, ListEndpoints (the members Runway sends; MaxResults 1..100). */
const listRequest = z
  .object({
    NameContains: z
      .string()
      .max(63)
      .regex(/^[a-zA-Z0-9-]+$/)
      .optional(),
    MaxResults: z.number().int().min(1).max(100).optional(),
    NextToken: z.string().max(8192).optional(),
  })
  .strict();

export const sageMakerRequests = {
  createModel: z
    .object({
      ModelName: resourceName,
      ExecutionRoleArn: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/?[a-zA-Z_0-9+=,.@\-_/]+$/),
      PrimaryContainer: z
        .object({
          Image: z
            .string()
            .max(255)
            .regex(/^[\S]+$/),
          ModelDataUrl: z
            .string()
            .max(1024)
            .regex(/^(https|s3):\/\//)
            .optional(),
          ModelDataSource: z
            .object({
              S3DataSource: z
                .object({
                  S3Uri: z
                    .string()
                    .max(1024)
                    .regex(/^(https|s3):\/\/([^/]+)\/?(.*)$/),
                  S3DataType: z.enum(['S3Prefix', 'S3Object']),
                  CompressionType: z.enum(['None', 'Gzip']),
                })
                .strict()
                .refine((source) => source.S3DataType !== 'S3Prefix' || source.S3Uri.endsWith('/'), {
                  message: 'an S3Prefix must end with /',
                })
                .refine((source) => source.S3DataType !== 'S3Prefix' || source.CompressionType === 'None', {
                  message: 'an S3Prefix must be uncompressed',
                }),
            })
            .strict()
            .optional(),
          Environment: z
            .record(
              z
                .string()
                .max(1024)
                .regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/),
              z.string().max(1024),
            )
            .optional(),
          Mode: z.enum(['SingleModel', 'MultiModel']).optional(),
        })
        .strict(),
      Tags: tags.optional(),
      EnableNetworkIsolation: z.boolean().optional(),
    })
    .strict(),
  createEndpointConfig: z
    .object({
      EndpointConfigName: resourceName,
      ProductionVariants: z
        .array(
          z
            .object({
              VariantName: resourceName,
              ModelName: resourceName,
              InstanceType: z.string().regex(/^ml\.[a-z0-9]+\.[a-z0-9]+$/),
              InitialInstanceCount: z.number().int().min(1),
              InitialVariantWeight: z.number().min(0).optional(),
            })
            .strict(),
        )
        .min(1)
        .max(10),
      Tags: tags.optional(),
    })
    .strict(),
  createEndpoint: z
    .object({ EndpointName: resourceName, EndpointConfigName: resourceName, Tags: tags.optional() })
    .strict(),
  updateEndpoint: z
    .object({
      EndpointName: resourceName,
      EndpointConfigName: resourceName,
      DeploymentConfig: z
        .object({
          BlueGreenUpdatePolicy: z
            .object({
              TrafficRoutingConfiguration: z
                .object({
                  Type: z.enum(['ALL_AT_ONCE', 'CANARY', 'LINEAR']),
                  WaitIntervalInSeconds: z.number().int().min(0).max(3600),
                  CanarySize: capacity.optional(),
                  LinearStepSize: capacity.optional(),
                })
                .strict()
                .refine((routing) => routing.Type !== 'CANARY' || routing.CanarySize, {
                  message: 'CANARY needs CanarySize',
                })
                .refine((routing) => routing.Type !== 'LINEAR' || routing.LinearStepSize, {
                  message: 'LINEAR needs LinearStepSize',
                }),
              TerminationWaitInSeconds: z.number().int().min(0).max(3600).optional(),
              MaximumExecutionTimeoutInSeconds: z.number().int().min(600).max(28_800).optional(),
            })
            .strict(),
          AutoRollbackConfiguration: z
            .object({
              Alarms: z
                .array(z.object({ AlarmName: z.string().min(1).max(255) }).strict())
                .min(1)
                .max(10),
            })
            .strict()
            .optional(),
        })
        .strict()
        .optional(),
      RetainAllVariantProperties: z.boolean().optional(),
    })
    .strict(),
  describeEndpoint: z.object({ EndpointName: resourceName }).strict(),
  deleteModel: z.object({ ModelName: resourceName }).strict(),
  deleteEndpointConfig: z.object({ EndpointConfigName: resourceName }).strict(),
  deleteEndpoint: z.object({ EndpointName: resourceName }).strict(),
  listModels: listRequest,
  listEndpointConfigs: listRequest,
  listEndpoints: listRequest,
  listTags: z
    .object({
      ResourceArn: z
        .string()
        .max(256)
        .regex(/^arn:aws[a-z-]*:sagemaker:[a-z0-9-]*:[0-9]{12}:.+$/),
      NextToken: z.string().max(8192).optional(),
      MaxResults: z.number().int().min(50).max(100).optional(),
    })
    .strict(),
} as const;

const dimension = z.object({ Name: z.string().min(1).max(255), Value: z.string().min(1).max(1024) }).strict();
const metricStat = z
  .object({
    Metric: z
      .object({ Namespace: z.string(), MetricName: z.string(), Dimensions: z.array(dimension).max(30) })
      .strict(),
    Period: z.number().int().min(1),
    Stat: z.string(),
  })
  .strict();

export const cloudWatchRequests = {
  putMetricAlarm: z
    .object({
      AlarmName: z.string().min(1).max(255),
      AlarmDescription: z.string().max(1024).optional(),
      ComparisonOperator: z.enum([
        'GreaterThanOrEqualToThreshold',
        'GreaterThanThreshold',
        'LessThanThreshold',
        'LessThanOrEqualToThreshold',
      ]),
      EvaluationPeriods: z.number().int().min(1),
      Threshold: z.number(),
      TreatMissingData: z.enum(['breaching', 'notBreaching', 'ignore', 'missing']).optional(),
      Namespace: z.string().optional(),
      MetricName: z.string().optional(),
      Dimensions: z.array(dimension).max(30).optional(),
      ExtendedStatistic: z
        .string()
        .regex(/^p\d{1,2}(\.\d+)?$/)
        .optional(),
      Statistic: z.enum(['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum']).optional(),
      Period: z.number().int().min(1).optional(),
      Metrics: z
        .array(
          z
            .object({
              Id: z.string().regex(/^[a-z][a-zA-Z0-9_]*$/),
              ReturnData: z.boolean().optional(),
              MetricStat: metricStat.optional(),
              Expression: z.string().max(2048).optional(),
            })
            .strict(),
        )
        .optional(),
    })
    .strict()
    // A single metric or a metric math expression, never both (the API's rule).
    .refine((alarm) => (alarm.Metrics === undefined) !== (alarm.MetricName === undefined), {
      message: 'either MetricName or Metrics',
    })
    .refine(
      (alarm) =>
        alarm.Metrics === undefined || alarm.Metrics.filter((m) => m.ReturnData !== false).length === 1,
      {
        message: 'exactly one metric returns data',
      },
    ),
  deleteAlarms: z.object({ AlarmNames: z.array(z.string().min(1).max(255)).min(1).max(100) }).strict(),
} as const;

class AwsError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

type Status = 'Creating' | 'Updating' | 'RollingBack' | 'InService' | 'Failed' | 'Deleting';
interface Created {
  createdAt: number;
  tags: Record<string, string>;
}
interface FakeEndpoint extends Created {
  config: string;
  status: Status;
  /** DescribeEndpoint calls left before the current operation ends. */
  pending: number;
  next: { status: Status; config: string; failureReason?: string };
  failureReason?: string;
}

export class FakeSageMaker {
  readonly calls: Array<{ service: string; action: string; params: Record<string, unknown> }> = [];
  readonly models = new Map<string, Created>();
  readonly configs = new Map<string, Created & { model: string }>();
  readonly endpoints = new Map<string, FakeEndpoint>();
  readonly alarms = new Map<string, Record<string, unknown>>();
  /** The clock resources are created by (a test backdates what it creates). */
  now: () => number = () => Date.now();
  static readonly REGION = 'us-east-1';
  static readonly ACCOUNT = '123456789012';
  static readonly ARN_PREFIX = `arn:aws:sagemaker:${FakeSageMaker.REGION}:${FakeSageMaker.ACCOUNT}:`;
  /** Set by a test: how the next create or update ends. */
  outcome: 'succeed' | 'fail' | 'alarm' = 'succeed';
  /** DescribeEndpoint calls an operation takes. */
  polls = 2;

  /** The `callAws` of the local Step Functions task environment. */
  readonly call = async (
    service: string,
    action: string,
    params: Record<string, unknown>,
  ): Promise<unknown> => {
    this.calls.push({ service, action, params: structuredClone(params) });
    const schemas: Record<string, z.ZodType> =
      service === 'sagemaker' ? sageMakerRequests : service === 'cloudwatch' ? cloudWatchRequests : {};
    const schema = schemas[action];
    if (!schema)
      throw new AwsError('UnknownOperationException', `${service}:${action} is not part of the fake`);
    const parsed = schema.safeParse(params);
    if (!parsed.success) {
      throw new AwsError(
        'ValidationException',
        `${action}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    }
    return this.answer(action, params);
  };

  /**
   * Runway's SageMaker adapter over this fake: its SDK commands are sent here by name
   * (`ListModelsCommand` -> `listModels`) and checked like the state machine's requests.
   */
  resources(): SdkSageMakerResources {
    const sender = (service: string) => ({
      send: (command: object) => {
        const name = command.constructor.name.replace(/Command$/, '');
        const input = (command as { input: Record<string, unknown> }).input;
        const defined = JSON.parse(JSON.stringify(input)) as Record<string, unknown>;
        return this.call(service, `${name.charAt(0).toLowerCase()}${name.slice(1)}`, defined);
      },
    });
    return new SdkSageMakerResources(FakeSageMaker.ARN_PREFIX, sender('sagemaker'), sender('cloudwatch'));
  }

  /** Every resource name the fake holds, by kind (what a test asserts on after a teardown). */
  inventory() {
    return {
      models: [...this.models.keys()].sort(),
      configs: [...this.configs.keys()].sort(),
      endpoints: [...this.endpoints.keys()].sort(),
      alarms: [...this.alarms.keys()].sort(),
    };
  }

  private answer(action: string, params: Record<string, unknown>): unknown {
    const arn = (type: string, name: unknown) =>
      `arn:aws:sagemaker:us-east-1:123456789012:${type}/${String(name).toLowerCase()}`;
    switch (action) {
      case 'putMetricAlarm':
        this.alarms.set(String(params.AlarmName), params);
        return {};
      case 'deleteAlarms': {
        const names = params.AlarmNames as string[];
        const missing = names.filter((name) => !this.alarms.has(name));
        for (const name of names) this.alarms.delete(name);
        if (missing.length > 0) throw new AwsError('ResourceNotFound', `${missing.join(', ')} not found`);
        return {};
      }
      case 'createModel': {
        const name = String(params.ModelName);
        if (this.models.has(name))
          throw new AwsError(
            'ValidationException',
            `Cannot create already existing model "${arn('model', name)}".`,
          );
        this.models.set(name, this.created(params));
        return { ModelArn: arn('model', name) };
      }
      case 'deleteModel':
        return this.remove(
          this.models,
          String(params.ModelName),
          `Could not find model "${arn('model', params.ModelName)}".`,
        );
      case 'deleteEndpointConfig':
        return this.remove(
          this.configs,
          String(params.EndpointConfigName),
          `Could not find endpoint configuration "${arn('endpoint-config', params.EndpointConfigName)}".`,
        );
      case 'deleteEndpoint': {
        const name = String(params.EndpointName);
        const endpoint = this.endpoints.get(name);
        if (!endpoint)
          throw new AwsError('ValidationException', `Could not find endpoint "${arn('endpoint', name)}".`);
        if (endpoint.status === 'Deleting') {
          throw new AwsError(
            'ValidationException',
            `Cannot delete endpoint "${arn('endpoint', name)}" in Deleting state.`,
          );
        }
        Object.assign(endpoint, { status: 'Deleting', pending: this.polls });
        return {};
      }
      case 'listModels':
        return this.page(params, this.models, 'Models', (name, entry) => ({
          ModelName: name,
          ModelArn: arn('model', name),
          CreationTime: new Date(entry.createdAt),
        }));
      case 'listEndpointConfigs':
        return this.page(params, this.configs, 'EndpointConfigs', (name, entry) => ({
          EndpointConfigName: name,
          EndpointConfigArn: arn('endpoint-config', name),
          CreationTime: new Date(entry.createdAt),
        }));
      case 'listEndpoints':
        return this.page(params, this.endpoints, 'Endpoints', (name, entry) => ({
          EndpointName: name,
          EndpointArn: arn('endpoint', name),
          CreationTime: new Date(entry.createdAt),
          LastModifiedTime: new Date(entry.createdAt),
          EndpointStatus: entry.status,
        }));
      case 'listTags': {
        const [, type = '', name = ''] =
          /:(model|endpoint-config|endpoint)\/(.+)$/.exec(String(params.ResourceArn)) ?? [];
        const store: Map<string, Created> =
          type === 'model' ? this.models : type === 'endpoint-config' ? this.configs : this.endpoints;
        const entry = [...store.entries()].find(([key]) => key.toLowerCase() === name)?.[1];
        if (!entry)
          throw new AwsError('ValidationException', `Could not find resource "${params.ResourceArn}".`);
        return { Tags: Object.entries(entry.tags).map(([Key, Value]) => ({ Key, Value })) };
      }
      case 'createEndpointConfig': {
        const name = String(params.EndpointConfigName);
        if (this.configs.has(name)) {
          throw new AwsError(
            'ValidationException',
            `Cannot create already existing endpoint configuration "${arn('endpoint-config', name)}".`,
          );
        }
        const variants = params.ProductionVariants as Array<{ ModelName: string }>;
        for (const variant of variants) {
          if (!this.models.has(variant.ModelName))
            throw new AwsError(
              'ValidationException',
              `Could not find model "${arn('model', variant.ModelName)}".`,
            );
        }
        this.configs.set(name, { ...this.created(params), model: variants[0]?.ModelName ?? '' });
        return { EndpointConfigArn: arn('endpoint-config', name) };
      }
      case 'createEndpoint': {
        const name = String(params.EndpointName);
        const config = String(params.EndpointConfigName);
        if (this.endpoints.has(name))
          throw new AwsError(
            'ValidationException',
            `Cannot create already existing endpoint "${arn('endpoint', name)}".`,
          );
        this.requireConfig(config);
        this.endpoints.set(name, {
          ...this.created(params),
          config,
          status: 'Creating',
          pending: this.polls,
          next:
            this.outcome === 'fail'
              ? {
                  status: 'Failed',
                  config,
                  failureReason:
                    'The primary container for production variant AllTraffic did not pass the ping health check.',
                }
              : { status: 'InService', config },
        });
        return { EndpointArn: arn('endpoint', name) };
      }
      case 'updateEndpoint': {
        const name = String(params.EndpointName);
        const config = String(params.EndpointConfigName);
        const endpoint = this.endpoints.get(name);
        if (!endpoint)
          throw new AwsError('ValidationException', `Could not find endpoint "${arn('endpoint', name)}".`);
        if (endpoint.status !== 'InService') {
          throw new AwsError(
            'ValidationException',
            `Cannot update in-progress endpoint "${arn('endpoint', name)}".`,
          );
        }
        this.requireConfig(config);
        const alarms = (
          (
            params.DeploymentConfig as {
              AutoRollbackConfiguration?: { Alarms: Array<{ AlarmName: string }> };
            }
          )?.AutoRollbackConfiguration?.Alarms ?? []
        ).map((alarm) => alarm.AlarmName);
        const firing = alarms[0];
        if (firing && !this.alarms.has(firing))
          throw new AwsError('ValidationException', `The alarm ${firing} does not exist.`);
        Object.assign(endpoint, {
          status: 'Updating',
          pending: this.polls,
          next:
            this.outcome === 'alarm' && firing
              ? {
                  status: 'InService',
                  config: endpoint.config,
                  failureReason: `Auto rollback triggered: alarm ${firing} is in ALARM state.`,
                }
              : this.outcome === 'fail'
                ? { status: 'Failed', config: endpoint.config, failureReason: 'The update failed.' }
                : { status: 'InService', config },
        });
        return { EndpointArn: arn('endpoint', name) };
      }
      case 'describeEndpoint': {
        const name = String(params.EndpointName);
        const endpoint = this.endpoints.get(name);
        if (!endpoint)
          throw new AwsError('ValidationException', `Could not find endpoint "${arn('endpoint', name)}".`);
        if (endpoint.status === 'Deleting') {
          endpoint.pending -= 1;
          if (endpoint.pending <= 0) this.endpoints.delete(name);
        } else if (
          endpoint.status === 'Creating' ||
          endpoint.status === 'Updating' ||
          endpoint.status === 'RollingBack'
        ) {
          endpoint.pending -= 1;
          if (endpoint.pending <= 0) {
            endpoint.status = endpoint.next.status;
            endpoint.config = endpoint.next.config;
            endpoint.failureReason = endpoint.next.failureReason;
          } else if (
            endpoint.status === 'Updating' &&
            endpoint.next.failureReason?.startsWith('Auto rollback')
          ) {
            endpoint.status = 'RollingBack';
          }
        }
        return {
          EndpointName: name,
          EndpointArn: arn('endpoint', name),
          EndpointConfigName: endpoint.config,
          EndpointStatus: endpoint.status,
          ...(endpoint.failureReason ? { FailureReason: endpoint.failureReason } : {}),
          CreationTime: new Date(0).toISOString(),
          LastModifiedTime: new Date().toISOString(),
        };
      }
      default:
        throw new AwsError('UnknownOperationException', action);
    }
  }

  private created(params: Record<string, unknown>): Created {
    const tags = (params.Tags as Array<{ Key: string; Value: string }> | undefined) ?? [];
    return { createdAt: this.now(), tags: Object.fromEntries(tags.map((tag) => [tag.Key, tag.Value])) };
  }

  private remove(store: Map<string, unknown>, name: string, missing: string): Record<string, never> {
    if (!store.delete(name)) throw new AwsError('ValidationException', missing);
    return {};
  }

  /** A page of a listing as SageMaker answers it: by name, `NameContains` applied, 10 by default. */
  private page<T>(
    params: Record<string, unknown>,
    store: Map<string, T>,
    key: string,
    render: (name: string, entry: T) => Record<string, unknown>,
  ): Record<string, unknown> {
    const contains = String(params.NameContains ?? '').toLowerCase();
    const names = [...store.keys()].filter((name) => name.toLowerCase().includes(contains)).sort();
    const start = params.NextToken ? Number(params.NextToken) : 0;
    const size = Number(params.MaxResults ?? 10);
    const next = start + size < names.length ? String(start + size) : undefined;
    return {
      [key]: names.slice(start, start + size).map((name) => render(name, store.get(name) as T)),
      ...(next ? { NextToken: next } : {}),
    };
  }

  private requireConfig(config: string): void {
    if (!this.configs.has(config))
      throw new AwsError('ValidationException', `Could not find endpoint configuration "${config}".`);
  }
}
