import { Duration, Stack, Validations } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  type IMetric,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { EventField, Rule, RuleTargetInput } from 'aws-cdk-lib/aws-events';
import { SnsTopic } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { type ITopic, Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

/**
 * Where every Runway alarm goes. Each alarm metric costs $0.10 a month whether anything happens or
 * not, so Runway watches what says that something is wrong and nothing more (docs/aws.md counts it):
 * dead letters (`alarmOnDeadLetters`), Lambda errors and throttles (`LambdaHealth`), failed or
 * timed-out executions (`notifyOnFailedExecutions`, an EventBridge rule: free).
 */
export interface Alarms {
  topic: ITopic;
}

/** Alarm metrics each alarm costs, at $0.10 a month each (standard resolution, us-east-1, list price). */
export const ALARM_METRIC_MONTHLY_USD = 0.1;

export interface AlarmTopicProps {
  /** Subscribed to the topic (`-c alarmEmail=`); the address confirms by email. @default none */
  email?: string | undefined;
}

/**
 * The one SNS topic of Runway's alarms. TLS only. Not encrypted with KMS: CloudWatch alarms can
 * publish only to a topic encrypted with a customer-managed key (the AWS-managed key's policy cannot
 * let CloudWatch in), which costs $1 a month, more than Runway's whole idle bill; the messages name
 * alarms and executions, no data.
 */
export class AlarmTopic extends Construct implements Alarms {
  readonly topic: Topic;

  constructor(scope: Construct, id: string, props: AlarmTopicProps = {}) {
    super(scope, id);
    this.topic = new Topic(this, 'Topic', { displayName: 'Runway alarms', enforceSSL: true });
    const { account, partition, region } = Stack.of(this);
    // The topic has a policy (EventBridge's grant), which replaces SNS's default one: let this
    // account's CloudWatch alarms publish too.
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        actions: ['sns:Publish'],
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': account },
          ArnLike: { 'aws:SourceArn': `arn:${partition}:cloudwatch:${region}:${account}:alarm:*` },
        },
      }),
    );
    if (props.email) this.topic.addSubscription(new EmailSubscription(props.email));
    Validations.of(this.topic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason:
        'CloudWatch alarms need a customer-managed KMS key ($1 a month) to publish to an encrypted topic; the messages carry alarm and execution names only',
    });
  }
}

const alarmProps = { evaluationPeriods: 1, treatMissingData: TreatMissingData.NOT_BREACHING };

/** An alarm when `metric` is above `threshold`, to the topic. */
function alarm(scope: Construct, id: string, alarms: Alarms, metric: IMetric, description: string): Alarm {
  const created = new Alarm(scope, id, {
    ...alarmProps,
    metric,
    threshold: 0,
    comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
    alarmDescription: `Runway: ${description}`,
  });
  created.addAlarmAction(new SnsAction(alarms.topic));
  return created;
}

/** Alarms when a dead-letter queue holds a message: an event or invocation that was given up on. */
export function alarmOnDeadLetters(
  scope: Construct,
  id: string,
  queue: IQueue,
  alarms: Alarms,
  what: string,
): Alarm {
  return alarm(
    scope,
    id,
    alarms,
    queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
    `${what} landed in the dead-letter queue (read it, then purge it)`,
  );
}

/**
 * Function errors and throttles. Per function they would be two alarm metrics for each of Runway's
 * dozens of functions (several dollars a month); these are Lambda's account-wide metrics of the
 * region, two in all: in an account of its own (the recommended set-up) they are Runway's. The
 * function that failed is in the Lambda console's metrics, by function.
 */
export class LambdaHealth extends Construct {
  constructor(scope: Construct, id: string, alarms: Alarms) {
    super(scope, id);
    const metric = (metricName: string) =>
      new Metric({ namespace: 'AWS/Lambda', metricName, statistic: 'Sum', period: Duration.minutes(5) });
    alarm(this, 'Errors', alarms, metric('Errors'), 'a Lambda function failed (an error or a timeout)');
    alarm(
      this,
      'Throttles',
      alarms,
      metric('Throttles'),
      'Lambda throttled an invocation (concurrency limit)',
    );
  }
}

/**
 * Notifies the topic when an execution of `machine` fails or times out (a deploy that failed or
 * rolled back, a training pipeline that failed): Step Functions' own status events, matched by an
 * EventBridge rule, which costs nothing and names the execution.
 */
export function notifyOnFailedExecutions(
  scope: Construct,
  id: string,
  machine: IStateMachine,
  alarms: Alarms,
  what: string,
): Rule {
  return new Rule(scope, id, {
    description: `Runway: a ${what} execution failed or timed out`,
    eventPattern: {
      source: ['aws.states'],
      detailType: ['Step Functions Execution Status Change'],
      detail: { status: ['FAILED', 'TIMED_OUT'], stateMachineArn: [machine.stateMachineArn] },
    },
    targets: [
      new SnsTopic(alarms.topic, {
        message: RuleTargetInput.fromText(
          `Runway: the ${what} execution ${EventField.fromPath('$.detail.name')} ended ${EventField.fromPath('$.detail.status')}: ${EventField.fromPath('$.detail.executionArn')}`,
        ),
      }),
    ],
  });
}
