import { SFNClient } from '@aws-sdk/client-sfn';

let sfn: SFNClient | undefined;

/** The Step Functions client, once per container. */
export function sfnClient(): SFNClient {
  sfn ??= new SFNClient({ maxAttempts: 5 });
  return sfn;
}
