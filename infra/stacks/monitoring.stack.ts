import { Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { type IEventBus, Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { type IManagedPolicy, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { CfnScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { MONITORING_NAMESPACE } from '../../shared/monitoring/adapters/metrics.emf.ts';
import {
  DriftDetected,
  MONITORING_EVENT_SOURCE,
  QualityDegraded,
} from '../../shared/monitoring/events/index.ts';
import { MONITORING_INDEXES, monitoringKeys } from '../../shared/monitoring/keys.ts';
import { registryKeys } from '../../shared/registry/keys.ts';
import { experimentKeys, runKeys } from '../../shared/tracking/keys.ts';
import { type Alarms, alarmOnDeadLetters, notifyOnFailedExecutions } from '../constructs/alarms.ts';
import { nagArn } from '../constructs/deploy-state-machine.ts';
import { MonitorStateMachine } from '../constructs/monitor-state-machine.ts';
import { RunwayFunction } from '../constructs/runway-function.ts';
import {
  type AccessSettings,
  API_PREFIXES,
  addApiRoutes,
  bindAccessChecks,
  type RunwayApis,
  routeIdOf,
} from './api.stack.ts';

/** The path ground truth is sent to, beside the invocations route. */
export const FEEDBACK_PATH = '/endpoints/{name}/feedback';

export interface MonitoringStackProps extends StackProps {
  /** Runway's HTTP APIs: the monitors and feedback routes are added to both. */
  apis: RunwayApis;
  /** A monitor's grants are its endpoint's model's. */
  access: AccessSettings;
  monitoringTable: ITable;
  /** Read only: endpoints (what a monitor watches) and the model server's statistics. */
  deploymentsTable: ITable;
  /** Read only: a served version's training statistics are named by its tags. */
  registryTable: ITable;
  /** Each run is an MLflow run (experiment `monitor-<endpoint>`). */
  trackingTable: ITable;
  /** Capture (read), feedback (written by the API), baselines and models (read), reports (written). */
  artifactBucket: IBucket;
  /** `StatefulStack.monitorRunPolicy`: the run's object access. */
  monitorRunPolicy: IManagedPolicy;
  /** `StatefulStack.monitoringApiPolicy`: the API's object access (feedback, reports). */
  monitoringApiPolicy: IManagedPolicy;
  /** Monitoring events go to it; the retrain rule listens on it. */
  eventBus: IEventBus;
  /** What the `retrain` action starts. */
  trainingPipeline: IStateMachine;
  /** Runway's alarm topic (`StatefulStack.alarms`): drift, quality and health alarms, failed runs, dead letters. */
  alarms: Alarms;
}

/**
 * Model monitoring: the monitors API (and feedback), one EventBridge Scheduler schedule per monitor in
 * this stack's schedule group, the monitor state machine and its steps function, the retrain rule, and
 * CloudWatch alarms over every monitor. Between two runs nothing runs and nothing is billed: a
 * schedule costs nothing while it waits, and a run is one execution and a few Lambda invocations.
 */
export class MonitoringStack extends Stack {
  readonly apiFunction: RunwayFunction;
  readonly stepsFunction: RunwayFunction;
  readonly retrainFunction: RunwayFunction;
  readonly stateMachine: IStateMachine;
  readonly scheduleGroupName: string;
  readonly alarms: Alarm[];

  constructor(scope: Construct, id: string, props: MonitoringStackProps) {
    super(scope, id, props);
    const bucket = props.artifactBucket;
    const endpointKeys = { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ENDPOINT#*'] } };

    // The run: streams a window, so more memory is more CPU; one Lambda invocation analyzes it.
    this.stepsFunction = new RunwayFunction(this, 'MonitorStepsFunction', {
      entry: 'functions/monitor-steps.ts',
      description: 'Runway monitor run steps: prepare, analyze a window, publish, record failures',
      memorySize: 1024,
      timeout: Duration.minutes(15),
    })
      // Its monitor's partition only (the monitor and its runs).
      .bindTable(props.monitoringTable, {
        accessMode: 'readWrite',
        envName: 'MONITORING_TABLE_NAME',
        leadingKeys: [monitoringKeys.partition('*')],
      })
      // A served version's tags (its training statistics), by the model's partition.
      .bindTable(props.registryTable, {
        accessMode: 'read',
        envName: 'REGISTRY_TABLE_NAME',
        leadingKeys: [registryKeys.partition('*')],
      })
      // The experiment monitor-<endpoint> (found or created) and the run's items, as the pipeline's Prepare.
      .bindTable(props.trackingTable, {
        accessMode: 'readWrite',
        envName: 'TRACKING_TABLE_NAME',
        leadingKeys: [
          experimentKeys.item('*').pk,
          `${experimentKeys.nameClaim('').pk.split('#')[0]}#*`,
          experimentKeys.counter.pk,
          runKeys.partition('*'),
          runKeys.history('*', '').replace(/#\*#$/, '#*'),
        ],
      })
      .bindEventBus(props.eventBus, { envName: 'EVENT_BUS_NAME' })
      // Endpoint items and the statistics items beside them, nothing else of the deployments table.
      .allow(
        new PolicyStatement({
          actions: ['dynamodb:GetItem', 'dynamodb:Query'],
          resources: [props.deploymentsTable.tableArn],
          conditions: endpointKeys,
        }),
      )
      // Capture, feedback, baselines, models (read); reports and monitor state (write): reviewed in the stateful stack.
      .bindPolicy(props.monitorRunPolicy, { envName: 'ARTIFACT_BUCKET_NAME', value: bucket.bucketName });
    this.stepsFunction.addEnvironment('DEPLOYMENTS_TABLE_NAME', props.deploymentsTable.tableName);

    const machine = new MonitorStateMachine(this, 'MonitorRun', { stepsFunction: this.stepsFunction });
    this.stateMachine = machine.stateMachine;

    // EventBridge Scheduler: one schedule per monitor, all in this group; it may start runs, nothing else.
    this.scheduleGroupName = this.stackName;
    const group = new CfnScheduleGroup(this, 'MonitorSchedules', { name: this.scheduleGroupName });
    const schedulerRole = new Role(this, 'SchedulerRole', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
      description: 'EventBridge Scheduler starts Runway monitor runs',
    });
    this.stateMachine.grantStartExecution(schedulerRole);

    this.apiFunction = new RunwayFunction(this, 'MonitoringFunction', {
      entry: 'functions/monitoring-api.ts',
      description: 'Runway monitors API (monitors, runs, reports) and ground-truth feedback',
      memorySize: 512,
    })
      .bindTable(props.monitoringTable, {
        accessMode: 'readWrite',
        envName: 'MONITORING_TABLE_NAME',
        indexes: Object.values(MONITORING_INDEXES),
      })
      .allow(
        new PolicyStatement({
          actions: ['dynamodb:GetItem'],
          resources: [props.deploymentsTable.tableArn],
          conditions: endpointKeys,
        }),
      )
      // Feedback (write) and reports (read): reviewed in the stateful stack.
      .bindPolicy(props.monitoringApiPolicy, { envName: 'ARTIFACT_BUCKET_NAME', value: bucket.bucketName })
      .allow(
        new PolicyStatement({
          actions: ['scheduler:CreateSchedule', 'scheduler:UpdateSchedule', 'scheduler:DeleteSchedule'],
          resources: [
            Stack.of(this).formatArn({
              service: 'scheduler',
              resource: 'schedule',
              resourceName: `${this.scheduleGroupName}/*`,
            }),
          ],
        }),
      )
      .allow(
        new PolicyStatement({
          actions: ['iam:PassRole'],
          resources: [schedulerRole.roleArn],
          conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
        }),
      );
    this.apiFunction.node.addDependency(group);
    this.apiFunction.addEnvironment('DEPLOYMENTS_TABLE_NAME', props.deploymentsTable.tableName);
    this.apiFunction.addEnvironment('MONITOR_STATE_MACHINE_ARN', this.stateMachine.stateMachineArn);
    this.apiFunction.addEnvironment('SCHEDULE_GROUP_NAME', this.scheduleGroupName);
    this.apiFunction.addEnvironment('SCHEDULER_ROLE_ARN', schedulerRole.roleArn);
    this.stateMachine.grantStartExecution(this.apiFunction);
    Validations.of(this.apiFunction.role ?? this.apiFunction).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagArn(this, 'scheduler', `schedule/${this.scheduleGroupName}/*`)}]`,
      reason: "Schedules are one per monitor, named after it, in this stack's schedule group; nothing else",
    });
    bindAccessChecks(this.apiFunction, props.access, { searches: true });

    const paths = API_PREFIXES.flatMap((prefix) => [
      `${prefix}/runway/monitors`,
      `${prefix}/runway/monitors/{proxy+}`,
    ]);
    addApiRoutes(this, props.apis, {
      fn: this.apiFunction,
      integrationId: 'MonitoringIntegration',
      routes: [
        ...paths.map((path) => ({ id: `Route${routeIdOf(path)}`, path, method: HttpMethod.ANY })),
        { id: 'FeedbackRoute', path: FEEDBACK_PATH, method: HttpMethod.POST },
      ],
    });

    // The loop: drift and quality events of monitors with a retrain action start the pipeline.
    this.retrainFunction = new RunwayFunction(this, 'MonitorRetrainFunction', {
      entry: 'functions/monitor-retrain.ts',
      description: 'Starts the training pipeline on drift or quality events of monitors that retrain',
      memorySize: 256,
      timeout: Duration.minutes(1),
    }).bindTable(props.monitoringTable, {
      accessMode: 'readWrite',
      envName: 'MONITORING_TABLE_NAME',
      leadingKeys: [monitoringKeys.partition('*')],
      writes: ['UpdateItem'],
    });
    this.retrainFunction.addEnvironment('PIPELINE_STATE_MACHINE_ARN', props.trainingPipeline.stateMachineArn);
    props.trainingPipeline.grantStartExecution(this.retrainFunction);
    const deadLetters = new Queue(this, 'RetrainDeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(deadLetters).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is the dead-letter queue of the retrain function; nothing reads it but operators',
    });
    this.retrainFunction.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: Duration.hours(1),
      onFailure: new SqsDestination(deadLetters),
    });
    new Rule(this, 'RetrainRule', {
      eventBus: props.eventBus,
      description: 'Drift and quality events of monitors whose actions include retrain',
      eventPattern: {
        source: [MONITORING_EVENT_SOURCE],
        detailType: [DriftDetected.name, QualityDegraded.name],
        detail: { actions: ['retrain'] },
      },
      targets: [
        new LambdaFunction(this.retrainFunction, {
          retryAttempts: 8,
          maxEventAge: Duration.hours(2),
          deadLetterQueue: deadLetters,
        }),
      ],
    });

    // Alarms over every monitor: runs write each metric once without dimensions too (metrics.emf.ts).
    const metric = (name: string) =>
      new Metric({
        namespace: MONITORING_NAMESPACE,
        metricName: name,
        statistic: 'Maximum',
        period: Duration.hours(1),
      });
    const alarm = (id: string, name: string, description: string) =>
      new Alarm(this, id, {
        metric: metric(name),
        threshold: 0,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
    this.alarms = [
      alarm('DriftAlarm', 'DriftDetected', 'Runway: a monitor found drift in its last hour (see its report)'),
      alarm(
        'QualityAlarm',
        'QualityDegraded',
        "Runway: a monitor found live quality below a monitor's limit",
      ),
      alarm(
        'HealthAlarm',
        'HealthDegraded',
        "Runway: a monitor found an endpoint's error rate or p99 over its limit",
      ),
    ];
    for (const each of this.alarms) each.addAlarmAction(new SnsAction(props.alarms.topic));
    alarmOnDeadLetters(
      this,
      'RetrainDeadLetterAlarm',
      deadLetters,
      props.alarms,
      'A monitoring event the retrain function gave up on',
    );
    notifyOnFailedExecutions(this, 'RunFailedNotification', this.stateMachine, props.alarms, 'monitor run');
  }
}
