import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/*
 * AWS SDK clients are created once per container and shared by every service in it, one module per
 * service so a function loads only the SDK packages it uses (cold start). Endpoints come from the
 * SDK's standard variables (`AWS_ENDPOINT_URL_DYNAMODB`, ...), so the same code reaches AWS, the
 * local runtime's emulators and LocalStack without asking where it runs.
 */

const documentClients = new Map<string, DynamoDBDocumentClient>();

/**
 * The DynamoDB document client: plain JS values in and out, `undefined` attributes dropped. In the
 * container's own region, or in `region` for a function that runs elsewhere than its tables
 * (Lambda@Edge runs in the region nearest the viewer, its tables stay in Runway's home region).
 */
export function dynamoDocumentClient(region?: string): DynamoDBDocumentClient {
  const key = region ?? '';
  let client = documentClients.get(key);
  if (!client) {
    client = DynamoDBDocumentClient.from(
      new DynamoDBClient({ maxAttempts: 5, ...(region ? { region } : {}) }),
      {
        marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
        unmarshallOptions: { wrapNumbers: false },
      },
    );
    documentClients.set(key, client);
  }
  return client;
}
