import { createHash } from 'node:crypto';

/** Step Functions execution names: at most 80 characters; Runway uses `[A-Za-z0-9-_]` only. */
export const MAX_EXECUTION_NAME = 80;

/**
 * The name of the execution that deploys `version` to `endpointName` because of the registry change
 * `changeKey` (see `desiredVersion`). Everything that can start that deploy (the registry event, a
 * duplicate of it, the reconciler) derives the same name, and Step Functions refuses a second
 * execution of one name (`ExecutionAlreadyExists`; for 90 days after the first one closed): so a
 * change is deployed at most once, whoever notices it first. Readable prefix, hashed identity.
 */
export function deployExecutionName(endpointName: string, version: string, changeKey: string): string {
  const digest = createHash('sha256').update(`${endpointName}\n${version}\n${changeKey}`).digest('hex');
  // 40 + "-v" + up to 10 digits + "-" + 24 = at most 77.
  return `${endpointName.slice(0, 40)}-v${version.slice(0, 10)}-${digest.slice(0, 24)}`;
}
