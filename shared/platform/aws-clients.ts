import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * AWS SDK clients, created once per container and shared by every service in it. Endpoints come from
 * the SDK's standard variables (`AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL_S3`, ...), so the same
 * code reaches AWS, the local runtime's emulators and LocalStack without asking where it runs.
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

let s3: S3Client | undefined;

/**
 * The S3 client. Against an IP endpoint (the local emulator) the SDK addresses buckets by path;
 * against AWS by virtual host, as S3 wants.
 */
export function s3Client(): S3Client {
  s3 ??= new S3Client({ maxAttempts: 5 });
  return s3;
}

let eventBridge: EventBridgeClient | undefined;

export function eventBridgeClient(): EventBridgeClient {
  eventBridge ??= new EventBridgeClient({ maxAttempts: 5 });
  return eventBridge;
}

let sfn: SFNClient | undefined;

export function sfnClient(): SFNClient {
  sfn ??= new SFNClient({ maxAttempts: 5 });
  return sfn;
}
