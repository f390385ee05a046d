import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/*
 * AWS SDK clients are created once per container and shared by every service in it, one module per
 * service so a function loads only the SDK packages it uses (cold start). Endpoints come from the
 * SDK's standard variables (`AWS_ENDPOINT_URL_DYNAMODB`, ...), so the same code reaches AWS, the
 * local runtime's emulators and LocalStack without asking where it runs.
 */

let documentClient: DynamoDBDocumentClient | undefined;

/** The DynamoDB document client: plain JS values in and out, `undefined` attributes dropped. */
export function dynamoDocumentClient(): DynamoDBDocumentClient {
  documentClient ??= DynamoDBDocumentClient.from(new DynamoDBClient({ maxAttempts: 5 }), {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    unmarshallOptions: { wrapNumbers: false },
  });
  return documentClient;
}
