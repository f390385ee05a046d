import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { inject } from 'vitest';

/** The IAM caller of the captured API Gateway event every handler test starts from. */
export const FIXTURE_CALLER = 'arn:aws:iam::123456789012:user/data-scientist';

/**
 * Points the AWS SDK at the emulators started by the global setup and sets a function's variables,
 * before the handler module is imported (handlers read their configuration once, at import).
 */
export function useEmulators(variables: Record<string, string>): void {
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: inject('dynamoEndpoint'),
    LOG_LEVEL: 'error',
    // Every API function checks access; the captured events' IAM caller is an admin unless a test says otherwise.
    ACCESS_TABLE_NAME: tableName('AccessTable'),
    RUNWAY_ADMIN_PRINCIPALS: FIXTURE_CALLER,
    ...variables,
  });
}

/** The local name of a table of the synthesized app, by its construct id (e.g. `TrackingTable`). */
export function tableName(constructId: string): string {
  const name = inject('tables')[constructId];
  if (!name) throw new Error(`No table ${constructId}; have ${Object.keys(inject('tables')).join(', ')}`);
  return name;
}

/**
 * A document client on the test emulator, for arranging and inspecting items directly (what a
 * function that died half-way would have left, or what a write stored).
 */
export function emulatorDocumentClient(): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: inject('dynamoEndpoint'),
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
}
