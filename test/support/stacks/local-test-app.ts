import type { App } from 'aws-cdk-lib';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { HttpApi, HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { AttributeType, BillingMode, Table } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus, Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction, SfnStateMachine } from 'aws-cdk-lib/aws-events-targets';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import {
  Choice,
  Condition,
  DefinitionBody,
  Fail,
  StateMachine,
  Succeed,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { RunwayFunction } from '../../../infra/constructs/runway-function.ts';

/**
 * A small CDK app that exercises every part of the local runtime: tables and buckets, HTTP routes,
 * functions with their own environments, a state machine with Retry/Catch/Choice, an event rule with
 * a Lambda and a state machine target, a failing target, and a schedule.
 */
export function defineLocalTestApp(app: App, env: { account: string; region: string }): void {
  const stack = new Stack(app, 'LocalTest', { env });
  const table = new Table(stack, 'Records', {
    partitionKey: { name: 'pk', type: AttributeType.STRING },
    sortKey: { name: 'sk', type: AttributeType.STRING },
    billingMode: BillingMode.PAY_PER_REQUEST,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  new Bucket(stack, 'Files', { removalPolicy: RemovalPolicy.DESTROY });
  const bus = new EventBus(stack, 'Bus');

  const echo = new RunwayFunction(stack, 'Echo', { entry: 'test/support/functions/echo.ts' });
  echo.addEnvironment('TABLE_NAME', table.tableName);
  const recorder = new RunwayFunction(stack, 'Recorder', { entry: 'test/support/functions/recorder.ts' });
  recorder.bindTable(table, { accessMode: 'readWrite', envName: 'TABLE_NAME' });
  recorder.addEnvironment('RECORDER_ONLY', 'yes');
  const worker = new RunwayFunction(stack, 'Worker', {
    entry: 'test/support/functions/worker.ts',
    timeout: Duration.seconds(2),
  });

  const work = new LambdaInvoke(stack, 'Double', { lambdaFunction: worker, payloadResponseOnly: true });
  work.addRetry({
    errors: ['TransientError'],
    maxAttempts: 2,
    interval: Duration.seconds(1),
    backoffRate: 1,
  });
  const rejected = new Fail(stack, 'Rejected', { error: 'Rejected', cause: 'the worker refused the input' });
  work.addCatch(rejected, { errors: ['ValidationError'] });
  const machine = new StateMachine(stack, 'Machine', {
    definitionBody: DefinitionBody.fromChainable(
      work.next(
        new Choice(stack, 'Big?')
          .when(Condition.numberGreaterThan('$.doubled', 100), new Succeed(stack, 'Big'))
          .otherwise(new Succeed(stack, 'Small')),
      ),
    ),
  });

  const control = new RunwayFunction(stack, 'Control', { entry: 'test/support/functions/control.ts' });
  control.bindTable(table, { accessMode: 'readWrite', envName: 'TABLE_NAME' });
  control.bindEventBus(bus, { envName: 'BUS_NAME' });
  control.addEnvironment('STATE_MACHINE_ARN', machine.stateMachineArn);
  machine.grantStartExecution(control);

  new Rule(stack, 'OnPing', {
    eventBus: bus,
    eventPattern: { source: ['test.app'], detailType: ['ping'] },
    targets: [new LambdaFunction(recorder, { retryAttempts: 2 })],
  });
  new Rule(stack, 'OnWork', {
    eventBus: bus,
    eventPattern: { source: ['test.app'], detail: { value: [{ numeric: ['>=', 0] }] } },
    targets: [new SfnStateMachine(machine)],
  });
  new Rule(stack, 'Tick', {
    schedule: Schedule.rate(Duration.hours(1)),
    targets: [new LambdaFunction(recorder)],
  });

  const api = new HttpApi(stack, 'Api');
  api.addRoutes({
    path: '/echo/{id}',
    methods: [HttpMethod.GET, HttpMethod.POST],
    integration: new HttpLambdaIntegration('EchoI', echo),
  });
  api.addRoutes({
    path: '/files/{proxy+}',
    methods: [HttpMethod.ANY],
    integration: new HttpLambdaIntegration('EchoG', echo),
  });
  const controlIntegration = new HttpLambdaIntegration('ControlI', control);
  for (const path of ['/start', '/describe', '/publish', '/put', '/get']) {
    api.addRoutes({ path, methods: [HttpMethod.POST], integration: controlIntegration });
  }
}
