import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';

const client = DynamoDBDocumentClient.from(new DynamoDBClient({}));

/** Test function: records every event it is given in the table, keyed by the event's id. */
export const handler = async (event: { id?: string; source?: string; detail?: { fail?: boolean } }) => {
  if (event.detail?.fail) throw Object.assign(new Error('asked to fail'), { name: 'RecorderFailure' });
  await client.send(
    new PutCommand({
      TableName: process.env.TABLE_NAME,
      Item: { pk: `EVENT#${event.id ?? 'none'}`, sk: 'EVENT', event: JSON.stringify(event) },
    }),
  );
  return { recorded: event.id };
};
