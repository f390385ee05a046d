import { grantKeys, tokenKeys } from '../../shared/access/keys.ts';
import { deploymentKeys } from '../../shared/deployments/keys.ts';
import { monitoringKeys } from '../../shared/monitoring/keys.ts';
import { registryKeys } from '../../shared/registry/keys.ts';
import { webhookKeys } from '../../shared/registry/webhooks/keys.ts';
import { experimentKeys, runKeys } from '../../shared/tracking/keys.ts';
import { loggedModelKeys } from '../../shared/tracking/logged-models/keys.ts';
import { traceKeys } from '../../shared/tracking/traces/keys.ts';

/**
 * The least-privilege rules as data: what `least-privilege.test.ts` holds every role of every
 * synthesized template to. A new stack's roles are judged by the same walk; when one of them needs
 * more than the defaults allow, add an entry here with the reason a reviewer would accept (say what
 * the code does that needs it). Roles are named `<stack>/<logical id without its hash>` and matched
 * by the part after the stack, so the app's prefix does not matter.
 *
 * The rules:
 * - `no-data-action-on-star`: no S3 or DynamoDB action on `*`, whatever else says so;
 * - `table-grant-needs-leading-keys`: a grant on a table (or its index) carries a
 *   `dynamodb:LeadingKeys` condition whose patterns are partitions of that table (`TABLES`), unless
 *   the role owns the whole table (`WHOLE_TABLE_GRANTS`); such a statement names item actions only;
 * - `delete-object-unused`: `s3:DeleteObject` only for roles whose code deletes (`OBJECT_DELETERS`,
 *   each naming the file and the call, which the test finds there);
 * - `unlisted-wildcard`: a `*` in an action or a resource only as an entry of `WILDCARDS` allows it;
 * - `aws-managed-policy`: no AWS managed policy;
 * - `trust-without-source`: a role a service assumes on behalf of resources (`SOURCE_CONDITIONED`)
 *   trusts it for this account's resources only (`aws:SourceAccount`, `aws:SourceArn`);
 * - `coarse-acknowledgement`: a cdk-nag acknowledgement of a finding that has granular ids (IAM4,
 *   IAM5) names the one it covers, so it cannot hide a finding it does not name.
 */

/** A table's partitions: key prefixes (`RUN#`) and exact partition values of its indexes (`ENDPOINTS`). */
export interface TableKeys {
  prefixes: readonly string[];
}

const prefixOf = (key: string) => `${key.split('#')[0]}#`;

/** Every table of the app by logical id (without hash), with the partitions its keys.ts builds. */
export const TABLES: Record<string, TableKeys> = {
  TrackingTable: {
    prefixes: [
      prefixOf(experimentKeys.item('x').pk),
      prefixOf(experimentKeys.nameClaim('x').pk),
      experimentKeys.counter.pk,
      experimentKeys.listPartition,
      runKeys.partition(''),
      prefixOf(runKeys.history('x', 'y')),
      prefixOf(loggedModelKeys.item('x').pk),
      // Traces and their run links; their index partitions (EXP#<id>#TRACES, RUN#<id>#TRACES) are EXP# and RUN#.
      prefixOf(traceKeys.item('x').pk),
    ],
  },
  RegistryTable: {
    prefixes: [
      registryKeys.partition(''),
      registryKeys.modelsPartition,
      registryKeys.versionsPartition,
      registryKeys.aliasesPartition,
      // Webhooks and their dead letters: every key starts with WEBHOOK (webhooks/keys.ts).
      webhookKeys.partition.slice(0, 'WEBHOOK'.length),
    ],
  },
  DeploymentsTable: {
    prefixes: [
      deploymentKeys.partition(''),
      deploymentKeys.endpointsPartition,
      deploymentKeys.deletingPartition,
      deploymentKeys.modelPartition(''),
    ],
  },
  MonitoringTable: {
    prefixes: [
      monitoringKeys.partition(''),
      monitoringKeys.monitorsPartition,
      monitoringKeys.endpointPartition(''),
    ],
  },
  AccessTable: {
    prefixes: [
      prefixOf(tokenKeys.item('x').pk),
      tokenKeys.listPartition,
      prefixOf(grantKeys.item('experiment', 'x', 'u').pk),
      prefixOf(grantKeys.item('registered_model', 'x', 'u').pk),
      grantKeys.userPartition(''),
    ],
  },
};

/** Roles that may use a whole table without a LeadingKeys condition, each with why. */
export const WHOLE_TABLE_GRANTS: ReadonlyArray<{ table: string; role: RegExp; reason: string }> = [
  {
    table: 'TrackingTable',
    role: /\/TrackingFunctionRole$/,
    reason:
      'The tracking API owns every entity of its table: experiments, their name claims and id counter, runs, metric histories, logged models',
  },
  {
    table: 'MonitoringTable',
    role: /\/MonitoringFunctionRole$/,
    reason:
      'The monitors API owns every entity of its table: monitors, their runs, and their listings (all monitors, by endpoint)',
  },
  {
    table: 'AccessTable',
    role: /\/AccessFunctionRole$/,
    reason: 'The access API owns every entity of its table: tokens and grants, and their listings',
  },
];

/** CDK's deploy-time reader of the Lambda@Edge function's version ARN (an SSM parameter in us-east-1). */
const EDGE_ARN_READER = /\/CustomCrossRegionStringParameterReaderCustomResourceProviderRole$/;

/** Roles whose code deletes objects, with where it does. */
export const OBJECT_DELETERS: ReadonlyArray<{ role: RegExp; reason: string; file: string; call: string }> = [
  {
    role: /\/ArtifactsFunctionRole$/,
    reason: "MLflow's artifact API deletes artifacts (DELETE mlflow-artifacts/artifacts/<path>, deleteTree)",
    file: 'shared/tracking/artifacts/adapters/artifact.s3-store.ts',
    call: 'new DeleteObjectCommand(',
  },
  {
    role: /\/ArtifactEdgeRole$/,
    reason:
      "The artifact edge answers a DELETE of an artifact file or folder at Runway's URL itself, with the API's service (MANAGE only), which deletes its objects (artifact.s3-store.ts)",
    file: 'shared/tracking/artifacts/edge/artifact-edge.ts',
    call: 'this.deps.service.delete(',
  },
  {
    role: /\/TracesFunctionRole$/,
    reason:
      "MLflow's DeleteTraces removes the traces' span files (the trace's traces/<id>/ folder, deleteTree)",
    file: 'shared/tracking/artifacts/adapters/artifact.s3-store.ts',
    call: 'new DeleteObjectsCommand(',
  },
];

/** The one place a `*` may be: statements whose actions are all listed, on a resource the pattern matches. */
export interface WildcardEntry {
  actions: readonly string[];
  /** Matches the rendered resource (`<ArtifactBucket.Arn>/*`, `arn:${AWS::Partition}:sagemaker:...`). */
  resource: RegExp;
  /** Only for these roles. @default every role */
  roles?: RegExp;
  /** A condition key the statement must carry (the bound that makes the wildcard acceptable). */
  condition?: string;
  reason: string;
}

const SAGEMAKER_RESOURCE_ACTIONS = [
  'sagemaker:CreateModel',
  'sagemaker:CreateEndpointConfig',
  'sagemaker:CreateEndpoint',
  'sagemaker:UpdateEndpoint',
  'sagemaker:DescribeEndpoint',
  'sagemaker:AddTags',
  'sagemaker:ListTags',
  'sagemaker:DeleteModel',
  'sagemaker:DeleteEndpointConfig',
  'sagemaker:DeleteEndpoint',
  'sagemaker:InvokeEndpoint',
  'sagemaker:CreateTrainingJob',
  'sagemaker:DescribeTrainingJob',
  'sagemaker:StopTrainingJob',
];
const ARTIFACT_OBJECT_ACTIONS = [
  's3:GetObject',
  's3:PutObject',
  's3:DeleteObject',
  's3:AbortMultipartUpload',
  's3:ListMultipartUploadParts',
];

/** CDK's BucketDeployment provider: uploads the console's bundle at deploy time (aws-cdk-lib's, not Runway's code). */
const CONSOLE_UPLOADER = /\/CustomCDKBucketDeployment[0-9A-F]+[0-9]+MiBServiceRole$/;

/** The console's upload and the pipelines API's reads of its executions. */
const CONSOLE_WILDCARDS: readonly WildcardEntry[] = [
  {
    actions: ['s3:GetObject*', 's3:GetBucket*', 's3:List*'],
    resource: /:s3:::cdk-hnb659fds-assets-[^/]+(\/\*)?$/,
    roles: CONSOLE_UPLOADER,
    reason:
      "The console upload reads the bundle's zip from CDK's bootstrap asset bucket (a content-hashed key)",
  },
  {
    actions: [
      's3:GetObject*',
      's3:GetBucket*',
      's3:List*',
      's3:DeleteObject*',
      's3:PutObject',
      's3:PutObjectLegalHold',
      's3:PutObjectRetention',
      's3:PutObjectTagging',
      's3:PutObjectVersionTagging',
      's3:Abort*',
    ],
    resource: /^<ConsoleBucket\.Arn>(\/\*)?$/,
    roles: CONSOLE_UPLOADER,
    reason:
      "The console upload (aws-cdk-lib's grant) replaces the files of the console's own bucket, which holds nothing else",
  },
  {
    actions: ['states:DescribeExecution', 'states:GetExecutionHistory'],
    resource: /:states:[^:]*:[^:]*:execution:<TrainingStateMachine\.Name>:\*$/,
    roles: /\/PipelinesApiFunctionRole$/,
    reason: "The pipelines API reads the training pipeline's executions, which are named per run",
  },
];

export const WILDCARDS: readonly WildcardEntry[] = [
  {
    actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
    resource:
      /^arn:(aws|\$\{AWS::Partition\}):logs:\*:[0-9]+:log-group:\/aws\/lambda\/us-east-1\.[A-Za-z0-9-]+(:\*)?$/,
    roles: /\/ArtifactEdgeRole$/,
    reason:
      "Lambda@Edge writes its logs in the region of the edge location that ran it, to a log group it names /aws/lambda/us-east-1.<function>: the function's own log group (and its streams), in any region",
  },
  {
    actions: ['ssm:GetParameter'],
    resource: /:ssm:us-east-1:[^:]+:parameter\/cdk\/EdgeFunctionArn\/\*$/,
    roles: EDGE_ARN_READER,
    reason:
      "CDK's reader of Lambda@Edge version ARNs reads the parameters EdgeFunction writes under /cdk/EdgeFunctionArn/ in us-east-1, at deploy time",
  },
  {
    actions: [
      'xray:PutTraceSegments',
      'xray:PutTelemetryRecords',
      'xray:GetSamplingRules',
      'xray:GetSamplingTargets',
    ],
    resource: /^\*$/,
    reason: 'X-Ray has no resource-level permissions (tracing of functions and state machines)',
  },
  {
    actions: [
      'logs:CreateLogDelivery',
      'logs:GetLogDelivery',
      'logs:UpdateLogDelivery',
      'logs:DeleteLogDelivery',
      'logs:ListLogDeliveries',
      'logs:PutResourcePolicy',
      'logs:DescribeResourcePolicies',
      'logs:DescribeLogGroups',
    ],
    resource: /^\*$/,
    roles: /StateMachineRole$/,
    reason: "CloudWatch Logs' delivery for Step Functions has no resource-level permissions",
  },
  {
    actions: ['lambda:InvokeFunction'],
    resource: /^<[A-Za-z0-9]+\.Arn>:\*$/,
    reason: "A state machine's grant on its step function covers the function's versions and aliases",
  },
  {
    actions: ['ecr:GetAuthorizationToken'],
    resource: /^\*$/,
    reason: 'ECR login has no resource-level permissions; image pulls name their repositories',
  },
  {
    actions: ['cloudwatch:PutMetricData'],
    resource: /^\*$/,
    condition: 'cloudwatch:namespace',
    reason:
      "PutMetricData has no resource-level permissions; the namespace condition bounds it to SageMaker's",
  },
  {
    actions: ['sagemaker:ListModels', 'sagemaker:ListEndpointConfigs', 'sagemaker:ListEndpoints'],
    resource: /^\*$/,
    reason:
      "SageMaker's List calls have no resource-level permissions (the teardown, pruning and orphan sweep list runway-* names)",
  },
  {
    actions: ['sagemaker:ListTags'],
    resource: /^\*$/,
    roles: /\/TrainingStateMachineRole$/,
    reason: "AWS's policy for the createTrainingJob.sync integration names it so (read only)",
  },
  {
    actions: SAGEMAKER_RESOURCE_ACTIONS,
    resource: /:sagemaker:[^:]*:[^:]*:(model|endpoint-config|endpoint|training-job)\/runway-\*$/,
    reason: "Runway's SageMaker resources are named runway-<endpoint>... and runway-<run id>; nothing else",
  },
  {
    actions: ['cloudwatch:PutMetricAlarm', 'cloudwatch:DeleteAlarms'],
    resource: /:cloudwatch:[^:]*:[^:]*:alarm:runway-\*$/,
    reason: "The endpoints' canary alarms are named runway-<endpoint>-canary-*",
  },
  {
    actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
    resource: /:log-group:\/aws\/sagemaker\/(Endpoints\/runway-\*|TrainingJobs:\*)$/,
    reason: "SageMaker writes Runway's endpoints' and training jobs' logs there",
  },
  {
    actions: ARTIFACT_OBJECT_ACTIONS,
    resource: /^<ArtifactBucket\.Arn>\/\*$/,
    reason:
      'Artifacts, datasets and models are objects under keys users and the registry chose in the one artifact bucket',
  },
  {
    actions: ['s3:PutObject'],
    resource: /^<ArtifactBucket\.Arn>\/serving-capture\/\*$/,
    reason: 'The model server writes invocation captures under serving-capture/ only',
  },
  {
    actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
    resource: /^<ArtifactBucket\.Arn>\/\*\/traces\/\*$/,
    roles: /\/TracesFunctionRole$/,
    reason:
      "Traces' span files sit below a traces/ folder of each experiment's artifact root (<root>/traces/<trace id>/artifacts/), whose keys the experiments choose",
  },
  {
    actions: ['s3:GetObject', 's3:PutObject'],
    resource: /^<ArtifactBucket\.Arn>\/\*\/artifacts\/(\*|data\/\*|sagemaker\/\*|monitoring\/\*)$/,
    reason:
      "Runs' and logged models' files (what pipelines write, SageMaker reads and writes, monitor runs report) sit under their artifacts/ folder",
  },
  {
    actions: ['s3:PutObject'],
    resource: /^<ArtifactBucket\.Arn>\/(serving-feedback|monitoring)\/\*$/,
    roles: /\/Monitor(ing|Steps)FunctionRole$/,
    reason:
      'Ground-truth feedback (the monitors API) and monitor state (monitor runs) live under their own prefixes',
  },
  {
    actions: ['scheduler:CreateSchedule', 'scheduler:UpdateSchedule', 'scheduler:DeleteSchedule'],
    resource: /:scheduler:[^:]*:[^:]*:schedule\/[A-Za-z0-9-]+-Monitoring\/\*$/,
    roles: /\/MonitoringFunctionRole$/,
    reason: "A monitor's schedule, one per monitor, in the monitoring stack's own schedule group",
  },
  ...CONSOLE_WILDCARDS,
];

/** Services whose roles must be conditioned on the source account and resource (confused deputy). */
export const SOURCE_CONDITIONED = ['sagemaker.amazonaws.com', 'states.amazonaws.com'];

/** AWS managed policies a role may attach (only the roles named), with why. */
export const AWS_MANAGED_POLICIES: ReadonlyArray<{ arn: RegExp; roles: RegExp; reason: string }> = [
  {
    arn: /:iam::aws:policy\/service-role\/AWSLambdaBasicExecutionRole"?\}?$/,
    roles: CONSOLE_UPLOADER,
    reason: "CDK's BucketDeployment provider writes its own logs with it; aws-cdk-lib sets its role",
  },
  {
    arn: /:iam::aws:policy\/service-role\/AWSLambdaBasicExecutionRole"?\}?$/,
    roles: EDGE_ARN_READER,
    reason:
      "CDK's provider that reads the edge function's version ARN across regions runs only while CloudFormation deploys (EdgeFunction); its logs need nothing more",
  },
];
