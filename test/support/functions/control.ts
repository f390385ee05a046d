import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';

const sfn = new SFNClient({});
const events = new EventBridgeClient({});
const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({}));

/**
 * Test function behind the test API: reaches Step Functions, EventBridge and DynamoDB through the
 * SDK's standard endpoint variables, exactly as Runway's handlers do.
 */
export const handler = async (event: { rawPath: string; body?: string }) => {
  try {
    return await route(event);
  } catch (error) {
    const { name, message } = error as Error;
    return {
      statusCode: 400,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name, message }),
    };
  }
};

async function route(event: { rawPath: string; body?: string }) {
  const body = event.body ? JSON.parse(event.body) : {};
  let result: unknown;
  switch (event.rawPath) {
    case '/start':
      result = await sfn.send(
        new StartExecutionCommand({
          stateMachineArn: process.env.STATE_MACHINE_ARN,
          input: JSON.stringify(body),
          name: body.name,
        }),
      );
      break;
    case '/describe':
      result = await sfn.send(new DescribeExecutionCommand({ executionArn: body.executionArn }));
      break;
    case '/publish':
      result = await events.send(
        new PutEventsCommand({
          Entries: [
            {
              EventBusName: process.env.BUS_NAME,
              Source: 'test.app',
              DetailType: 'ping',
              Detail: JSON.stringify(body),
            },
          ],
        }),
      );
      break;
    case '/put':
      await dynamo.send(
        new PutCommand({
          TableName: process.env.TABLE_NAME,
          Item: { pk: body.key, sk: 'ITEM', value: body.value },
        }),
      );
      result = { ok: true };
      break;
    case '/get':
      result =
        (
          await dynamo.send(
            new GetCommand({
              TableName: process.env.TABLE_NAME,
              Key: { pk: body.key, sk: body.sk ?? 'ITEM' },
            }),
          )
        ).Item ?? null;
      break;
    default:
      return { statusCode: 404, body: 'unknown' };
  }
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(result, dateReplacer),
  };
}

function dateReplacer(_key: string, value: unknown) {
  return value instanceof Date ? value.toISOString() : value;
}
