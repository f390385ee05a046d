import { Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import {
  AttributeType,
  BillingMode,
  ProjectionType,
  Table,
  TableEncryption,
  type TableProps,
} from 'aws-cdk-lib/aws-dynamodb';
import { Archive, EventBus } from 'aws-cdk-lib/aws-events';
import { ManagedPolicy, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type CfnBucket,
  ObjectOwnership,
} from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { grantKeys, tokenKeys } from '../../shared/access/keys.ts';
import { type Alarms, AlarmTopic, LambdaHealth } from '../constructs/alarms.ts';

/**
 * The keys of runs' and logged models' files in the artifact bucket: MLflow keeps them under an
 * `artifacts/` folder of their own (`<experiment>/<run>/artifacts/...`,
 * `<experiment>/models/<model id>/artifacts/...`), under an optional key prefix. Grants that need no
 * more than run artifacts (the pipeline's writes, SageMaker's reads) name this pattern, not `*`.
 */
export const RUN_ARTIFACT_KEYS = '*/artifacts/*';
/** The split's CSV files a SageMaker training job reads (`ARTIFACTS.train`, `ARTIFACTS.test`). */
export const TRAINING_DATA_KEYS = '*/artifacts/data/*';
/** Where a SageMaker training job writes (`ARTIFACTS.sagemakerOutput`). */
export const TRAINING_OUTPUT_KEYS = '*/artifacts/sagemaker/*';

/**
 * Everything that holds data: one table per bounded context, the artifact bucket and the Runway
 * event bus. Termination protection is on and construct ids never change, because replacing any of
 * these resources would lose a team's experiments and models. Stateless stacks receive them as props.
 */
export interface StatefulStackProps extends StackProps {
  /**
   * The literal name of {@link StatefulStack.artifactEdgePolicy}: the edge function's role lives in
   * us-east-1 and attaches it by name. Unique per Runway and region (IAM names are account-wide).
   * @default `<stack name>-ArtifactEdge-<region>`
   */
  artifactEdgePolicyName?: string;
}

export class StatefulStack extends Stack {
  /** Experiments, runs, params, metrics, tags (single-table design: `shared/tracking/keys.ts`). */
  readonly trackingTable: Table;
  /** Registered models, versions, aliases, stages and their tags (`shared/registry/keys.ts`). */
  readonly registryTable: Table;
  /** Endpoints, deployments and serving statistics. */
  readonly deploymentsTable: Table;
  /** Tokens (hashed) and permission grants (`shared/access/keys.ts`). */
  readonly accessTable: Table;
  /** Monitors and their runs (`shared/monitoring/keys.ts`). */
  readonly monitoringTable: Table;
  /** Run artifacts and registered model files. */
  readonly artifactBucket: Bucket;
  /** Access logs of the artifact bucket (S3 server access logs) and of the distribution (CloudFront). */
  readonly accessLogBucket: Bucket;
  /**
   * Object access to the artifact bucket for the functions that proxy and presign artifacts. Defined
   * here, beside the bucket, so its one wildcard (`<bucket>/*`, objects under arbitrary keys) is
   * reviewed and acknowledged where the bucket is; functions attach it.
   */
  readonly artifactAccessPolicy: ManagedPolicy;
  /**
   * The model server's access to the artifact bucket: read any object (models live where the
   * registry put each version's files) and write only under `serving-capture/`.
   */
  readonly modelServingPolicy: ManagedPolicy;
  /** Read-only object access to the artifact bucket: what the deploy's model checks need of model files. */
  readonly artifactReadPolicy: ManagedPolicy;
  /**
   * What the artifact edge function (Lambda@Edge, `functions/artifact-edge.ts`) reads and does: a
   * token by its id and a grant on an experiment (nothing else of the access table), and a DELETE's
   * listing and deletions in the artifact bucket. Uploads and downloads themselves go through
   * CloudFront's origin access control, not this role.
   */
  readonly artifactEdgePolicy: ManagedPolicy;
  /**
   * The traces function's access to spans: objects below a `traces/` folder of any artifact root
   * (`<root>/traces/<trace id>/artifacts/...`, MLflow's layout), nothing else of the bucket.
   */
  readonly traceSpansPolicy: ManagedPolicy;
  /**
   * A monitor run's access to the artifact bucket: read any object (capture, feedback, baselines and
   * models live under keys others chose), write only its report and its monitor's state.
   */
  readonly monitorRunPolicy: ManagedPolicy;
  /** The monitors API's: write feedback under `serving-feedback/`, read run reports. */
  readonly monitoringApiPolicy: ManagedPolicy;
  /**
   * The training pipeline's data steps: read any object (datasets and champion models live where
   * users put them) and write run artifacts only (`RUN_ARTIFACT_KEYS`); no step deletes anything.
   */
  readonly pipelineArtifactPolicy: ManagedPolicy;
  /** SageMaker endpoints' model reads: run and logged-model artifacts (`RUN_ARTIFACT_KEYS`), read only. */
  readonly sageMakerModelPolicy: ManagedPolicy;
  /**
   * SageMaker training jobs: read the split's CSV files and write the job's output, both under the
   * run's artifacts (`TRAINING_DATA_KEYS`, `TRAINING_OUTPUT_KEYS`).
   */
  readonly trainingJobDataPolicy: ManagedPolicy;
  /** Domain events of every context; rules on it drive deployments and user integrations. */
  readonly eventBus: EventBus;
  /** The topic every Runway alarm goes to (`-c alarmEmail=` subscribes an address). */
  readonly alarms: Alarms;

  constructor(
    scope: Construct,
    id: string,
    props: StatefulStackProps & { alarmEmail?: string | undefined } = {},
  ) {
    const { alarmEmail: _alarmEmail, artifactEdgePolicyName: _edgePolicyName, ...stackProps } = props;
    super(scope, id, { terminationProtection: true, ...stackProps });

    // GSI1 holds listings: every experiment, an experiment's runs (see shared/tracking/README.md).
    this.trackingTable = contextTable(this, 'TrackingTable');
    // GSI2 is search's index: a run's metric, param, tag and status entries, keys only, so a selective
    // search reads its hits and an entry costs about 1 KB of index write (shared/tracking/README.md).
    this.trackingTable.addGlobalSecondaryIndex({
      indexName: 'gsi2',
      partitionKey: { name: 'gsi2pk', type: AttributeType.STRING },
      sortKey: { name: 'gsi2sk', type: AttributeType.STRING },
      projectionType: ProjectionType.KEYS_ONLY,
    });
    // GSI1 holds listings: all models, all versions (shared/registry/README.md). Webhook dead letters
    // expire after 30 days (shared/registry/webhooks/README.md); nothing else sets the attribute.
    this.registryTable = contextTable(this, 'RegistryTable', { timeToLiveAttribute: 'expiresAt' });
    // Endpoints, their deployments and the model server's per-variant statistics (shared/deployments/keys.ts).
    // Statistics buckets expire (`expiresAt`) once no canary check can read them.
    this.deploymentsTable = contextTable(this, 'DeploymentsTable', { timeToLiveAttribute: 'expiresAt' });
    // GSI2: endpoints by the model they follow (GSI1 lists every endpoint; one item has one gsi1pk).
    this.deploymentsTable.addGlobalSecondaryIndex({
      indexName: 'gsi2',
      partitionKey: { name: 'gsi2pk', type: AttributeType.STRING },
      sortKey: { name: 'gsi2sk', type: AttributeType.STRING },
    });
    // Tokens by id and grants by resource; GSI1 lists all tokens and one user's grants.
    this.accessTable = contextTable(this, 'AccessTable');
    // Monitors and their runs; GSI1 lists every monitor, GSI2 the monitors of one endpoint.
    this.monitoringTable = contextTable(this, 'MonitoringTable');
    this.monitoringTable.addGlobalSecondaryIndex({
      indexName: 'gsi2',
      partitionKey: { name: 'gsi2pk', type: AttributeType.STRING },
      sortKey: { name: 'gsi2sk', type: AttributeType.STRING },
    });

    this.accessLogBucket = new Bucket(this, 'AccessLogBucket', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(365) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const accessLogs = this.accessLogBucket;
    Validations.of(accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This bucket receives the artifact bucket access logs; logging it to itself would loop',
    });

    this.artifactBucket = new Bucket(this, 'ArtifactBucket', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'artifacts/',
      lifecycleRules: [
        // Multipart uploads that a client abandoned cost money and are never completed later.
        { abortIncompleteMultipartUploadAfter: Duration.days(7) },
        { noncurrentVersionExpiration: Duration.days(90) },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // The public distribution (`RunwayDistribution`) reads and writes artifacts through origin access
    // control, after its edge function checked the caller. Its ARN cannot be named here: the API
    // stack that makes it depends on this one. So this admits CloudFront on behalf of this account's
    // distributions only; making one is an administrator's act.
    this.artifactBucket.addToResourcePolicy(
      new PolicyStatement({
        sid: 'RunwayDistributionArtifacts',
        principals: [new ServicePrincipal('cloudfront.amazonaws.com')],
        actions: ['s3:GetObject', 's3:PutObject'],
        resources: [this.artifactBucket.arnForObjects('*')],
        conditions: {
          StringEquals: { 'AWS:SourceAccount': this.account },
          ArnLike: { 'AWS:SourceArn': `arn:${this.partition}:cloudfront::${this.account}:distribution/*` },
        },
      }),
    );

    this.artifactAccessPolicy = new ManagedPolicy(this, 'ArtifactAccessPolicy', {
      description: 'Read, write and delete run artifacts; list the artifact bucket',
      statements: [
        new PolicyStatement({
          actions: [
            's3:GetObject',
            's3:PutObject',
            's3:DeleteObject',
            's3:AbortMultipartUpload',
            's3:ListMultipartUploadParts',
          ],
          resources: [this.artifactBucket.arnForObjects('*')],
        }),
        // Without ListBucket S3 answers 403 instead of 404 for a missing object.
        new PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.artifactBucket.bucketArn] }),
      ],
    });
    Validations.of(this.artifactAccessPolicy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${this.getLogicalId(this.artifactBucket.node.defaultChild as CfnBucket)}.Arn>/*]`,
      reason: 'Artifacts are objects under arbitrary keys of this one bucket; every action is named',
    });

    const bucketArn = `<${this.getLogicalId(this.artifactBucket.node.defaultChild as CfnBucket)}.Arn>`;
    this.modelServingPolicy = new ManagedPolicy(this, 'ModelServingPolicy', {
      description: 'Read models from the artifact bucket; write invocation captures under serving-capture/',
      statements: [
        new PolicyStatement({
          actions: ['s3:GetObject'],
          resources: [this.artifactBucket.arnForObjects('*')],
        }),
        // Without ListBucket S3 answers 403 instead of 404 for a model file that is missing.
        new PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.artifactBucket.bucketArn] }),
        new PolicyStatement({
          actions: ['s3:PutObject'],
          resources: [this.artifactBucket.arnForObjects('serving-capture/*')],
        }),
      ],
    });
    Validations.of(this.modelServingPolicy).acknowledge(
      {
        id: `AwsSolutions-IAM5[Resource::${bucketArn}/*]`,
        reason: 'Models are objects under the keys the registry chose in this one bucket; read only',
      },
      {
        id: `AwsSolutions-IAM5[Resource::${bucketArn}/serving-capture/*]`,
        reason: 'Invocation captures are objects under serving-capture/ (per endpoint and hour); put only',
      },
    );

    this.artifactReadPolicy = new ManagedPolicy(this, 'ArtifactReadPolicy', {
      description: 'Read model files from the artifact bucket (deploy checks, SageMaker endpoints)',
      statements: [
        new PolicyStatement({
          actions: ['s3:GetObject'],
          resources: [this.artifactBucket.arnForObjects('*')],
        }),
        new PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.artifactBucket.bucketArn] }),
      ],
    });
    Validations.of(this.artifactReadPolicy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${bucketArn}/*]`,
      reason: 'Model files are objects under the keys the registry chose in this one bucket; read only',
    });

    this.artifactEdgePolicy = new ManagedPolicy(this, 'ArtifactEdgePolicy', {
      managedPolicyName: props.artifactEdgePolicyName ?? `${this.stackName}-ArtifactEdge-${this.region}`,
      description: 'Runway artifact edge: read tokens and experiment grants; list and delete artifacts',
      statements: [
        new PolicyStatement({
          actions: ['dynamodb:GetItem'],
          resources: [this.accessTable.tableArn],
          conditions: {
            'ForAllValues:StringLike': {
              'dynamodb:LeadingKeys': [`${tokenKeys.item('').pk}*`, grantKeys.leadingKeyPatterns.experiment],
            },
          },
        }),
        new PolicyStatement({
          actions: ['s3:DeleteObject'],
          resources: [this.artifactBucket.arnForObjects('*')],
        }),
        new PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.artifactBucket.bucketArn] }),
      ],
    });
    Validations.of(this.artifactEdgePolicy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${bucketArn}/*]`,
      reason:
        'A DELETE of an artifact directory deletes the objects under its keys in this one bucket; delete only',
    });
    this.traceSpansPolicy = new ManagedPolicy(this, 'TraceSpansPolicy', {
      description: "Read, write and delete MLflow traces' span files (<artifact root>/traces/...)",
      statements: [
        new PolicyStatement({
          actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
          resources: [this.artifactBucket.arnForObjects('*/traces/*')],
        }),
        // Listing finds a deleted trace's files; without ListBucket S3 answers 403 for a missing object.
        new PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.artifactBucket.bucketArn] }),
      ],
    });
    Validations.of(this.traceSpansPolicy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${bucketArn}/*/traces/*]`,
      reason:
        "Span files live below a traces/ folder of each experiment's artifact root, whose keys the experiments choose; get, put and delete only",
    });
    this.pipelineArtifactPolicy = new ManagedPolicy(this, 'PipelineArtifactPolicy', {
      description: 'Read datasets and models from the artifact bucket; write run artifacts (no delete)',
      statements: [
        new PolicyStatement({
          actions: ['s3:GetObject'],
          resources: [this.artifactBucket.arnForObjects('*')],
        }),
        new PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.artifactBucket.bucketArn] }),
        new PolicyStatement({
          actions: ['s3:PutObject'],
          resources: [this.artifactBucket.arnForObjects(RUN_ARTIFACT_KEYS)],
        }),
      ],
    });
    Validations.of(this.pipelineArtifactPolicy).acknowledge(
      {
        id: `AwsSolutions-IAM5[Resource::${bucketArn}/*]`,
        reason:
          'Datasets and champion models are objects under keys users chose in this one bucket; read only',
      },
      {
        id: `AwsSolutions-IAM5[Resource::${bucketArn}/${RUN_ARTIFACT_KEYS}]`,
        reason: "Pipeline steps write their run's artifacts (<experiment>/<run>/artifacts/...); put only",
      },
    );

    // Policies of roles SageMaker assumes (they run user-chosen containers): run artifacts only.
    const prefixed = (keys: string) => ({ StringLike: { 's3:prefix': [keys] } });
    this.sageMakerModelPolicy = new ManagedPolicy(this, 'SageMakerModelPolicy', {
      description: 'SageMaker endpoints: read model directories under run and logged-model artifacts',
      statements: [
        new PolicyStatement({
          actions: ['s3:GetObject'],
          resources: [this.artifactBucket.arnForObjects(RUN_ARTIFACT_KEYS)],
        }),
        // A model directory is an S3 prefix: SageMaker lists it.
        new PolicyStatement({
          actions: ['s3:ListBucket'],
          resources: [this.artifactBucket.bucketArn],
          conditions: prefixed(RUN_ARTIFACT_KEYS),
        }),
      ],
    });
    Validations.of(this.sageMakerModelPolicy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${bucketArn}/${RUN_ARTIFACT_KEYS}]`,
      reason:
        "SageMaker reads the model directory, under a run's or logged model's artifacts/ folder; read only",
    });
    this.trainingJobDataPolicy = new ManagedPolicy(this, 'TrainingJobDataPolicy', {
      description:
        "SageMaker training jobs: read the split's CSV files, write the job's output (run artifacts)",
      statements: [
        new PolicyStatement({
          actions: ['s3:GetObject'],
          resources: [this.artifactBucket.arnForObjects(TRAINING_DATA_KEYS)],
        }),
        new PolicyStatement({
          actions: ['s3:ListBucket'],
          resources: [this.artifactBucket.bucketArn],
          conditions: prefixed(TRAINING_DATA_KEYS),
        }),
        new PolicyStatement({
          actions: ['s3:PutObject'],
          resources: [this.artifactBucket.arnForObjects(TRAINING_OUTPUT_KEYS)],
        }),
      ],
    });
    Validations.of(this.trainingJobDataPolicy).acknowledge(
      {
        id: `AwsSolutions-IAM5[Resource::${bucketArn}/${TRAINING_DATA_KEYS}]`,
        reason: "The job reads the split's CSV files (data/train.csv, data/test.csv) of its run; read only",
      },
      {
        id: `AwsSolutions-IAM5[Resource::${bucketArn}/${TRAINING_OUTPUT_KEYS}]`,
        reason: "The job writes its output (model.tar.gz) under its run's artifacts/sagemaker/; put only",
      },
    );

    this.monitorRunPolicy = new ManagedPolicy(this, 'MonitorRunPolicy', {
      description: 'Read capture, feedback, baselines and models; write monitor reports and monitor state',
      statements: [
        new PolicyStatement({
          actions: ['s3:GetObject'],
          resources: [this.artifactBucket.arnForObjects('*')],
        }),
        new PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.artifactBucket.bucketArn] }),
        new PolicyStatement({
          actions: ['s3:PutObject'],
          resources: [
            this.artifactBucket.arnForObjects('*/artifacts/monitoring/*'),
            this.artifactBucket.arnForObjects('monitoring/*'),
          ],
        }),
      ],
    });
    Validations.of(this.monitorRunPolicy).acknowledge(
      {
        id: `AwsSolutions-IAM5[Resource::${bucketArn}/*]`,
        reason:
          'A monitor run reads capture, feedback, baselines and model files under the keys their writers chose; read only',
      },
      {
        id: `AwsSolutions-IAM5[Resource::${bucketArn}/*/artifacts/monitoring/*]`,
        reason:
          "A monitor run writes its report among its MLflow run's artifacts, under artifacts/monitoring/",
      },
      {
        id: `AwsSolutions-IAM5[Resource::${bucketArn}/monitoring/*]`,
        reason:
          "A monitor run writes its monitor's state (prediction references) under monitoring/<monitor>/",
      },
    );
    this.monitoringApiPolicy = new ManagedPolicy(this, 'MonitoringApiPolicy', {
      description: 'Write ground-truth feedback under serving-feedback/; read monitor reports',
      statements: [
        new PolicyStatement({
          actions: ['s3:PutObject'],
          resources: [this.artifactBucket.arnForObjects('serving-feedback/*')],
        }),
        new PolicyStatement({
          actions: ['s3:GetObject'],
          resources: [this.artifactBucket.arnForObjects('*/artifacts/monitoring/*')],
        }),
        // Without ListBucket S3 answers 403 instead of 404 for a report that is missing.
        new PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.artifactBucket.bucketArn] }),
      ],
    });
    Validations.of(this.monitoringApiPolicy).acknowledge(
      {
        id: `AwsSolutions-IAM5[Resource::${bucketArn}/serving-feedback/*]`,
        reason: 'Feedback objects are put under serving-feedback/ (per endpoint and hour); put only',
      },
      {
        id: `AwsSolutions-IAM5[Resource::${bucketArn}/*/artifacts/monitoring/*]`,
        reason: "Monitor reports are read from runs' artifacts/monitoring/; read only",
      },
    );

    this.alarms = new AlarmTopic(this, 'Alarms', { email: props.alarmEmail });
    new LambdaHealth(this, 'LambdaHealth', this.alarms);

    this.eventBus = new EventBus(this, 'EventBus', { description: 'Runway domain events' });
    // An archive lets operators replay events a target missed (events are hints; state is truth).
    new Archive(this, 'EventArchive', {
      sourceEventBus: this.eventBus,
      eventPattern: { source: [{ prefix: 'runway.' }] as unknown as string[] },
      retention: Duration.days(30),
      description: 'Replayable history of Runway domain events',
    });
  }
}

/**
 * One bounded context's table: single-table keys (`pk`, `sk`) and one overloaded index (`gsi1pk`,
 * `gsi1sk`) for its listings, on demand, encrypted, with point-in-time recovery, deletion protection
 * and retention: a table holds a team's history and is never replaced by a deploy.
 */
function contextTable(scope: Construct, id: string, extra: Partial<TableProps> = {}): Table {
  const table = new Table(scope, id, {
    partitionKey: { name: 'pk', type: AttributeType.STRING },
    sortKey: { name: 'sk', type: AttributeType.STRING },
    billingMode: BillingMode.PAY_PER_REQUEST,
    encryption: TableEncryption.AWS_MANAGED,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    deletionProtection: true,
    removalPolicy: RemovalPolicy.RETAIN,
    ...extra,
  });
  table.addGlobalSecondaryIndex({
    indexName: 'gsi1',
    partitionKey: { name: 'gsi1pk', type: AttributeType.STRING },
    sortKey: { name: 'gsi1sk', type: AttributeType.STRING },
  });
  return table;
}
