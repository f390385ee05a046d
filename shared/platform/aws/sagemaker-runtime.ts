import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';

let runtime: SageMakerRuntimeClient | undefined;

/**
 * The SageMaker Runtime client, once per container (`AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME` points it
 * elsewhere). Two attempts: an invocation waits on it, so a throttled one is answered, not queued.
 */
export function sageMakerRuntimeClient(): SageMakerRuntimeClient {
  runtime ??= new SageMakerRuntimeClient({ maxAttempts: 2 });
  return runtime;
}
