import * as z from 'zod';
import type { Endpoint } from './model.ts';

/**
 * What a SageMaker endpoint may cost, set by the deployer at deploy time (`-c sagemakerInstanceTypes=
 * ml.m5.large,ml.c6i.large -c sagemakerMaxInstances=4 -c sagemakerImageRepositories=mlflow-pyfunc`)
 * and passed to the functions that check it: the endpoints API refuses settings outside them (400),
 * Resolve refuses to deploy them (the limits may have narrowed since), and IAM refuses an endpoint
 * config with another instance type (`sagemaker:InstanceTypes`).
 */
export interface SageMakerLimits {
  /** Instance types an endpoint may run on. */
  instanceTypes: readonly string[];
  /** Instances one endpoint may start. */
  maxInstances: number;
  /**
   * ECR repositories the serving image may come from, as `<registry>/<repository>`
   * (`123456789012.dkr.ecr.eu-west-1.amazonaws.com/mlflow-pyfunc`): the only ones SageMaker's role
   * may pull from.
   */
  imageRepositories: readonly string[];
}

/** The limits of a deployment that names none: two small general-purpose instances at most. */
export const DEFAULT_SAGEMAKER_LIMITS = {
  instanceTypes: ['ml.m5.large', 'ml.c5.large'],
  maxInstances: 2,
  /** The repository `mlflow sagemaker build-and-push-container` pushes to by default. */
  imageRepositoryNames: ['mlflow-pyfunc'],
} as const;

const list = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .transform((value) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  );

/** The limits as the functions read them (`SAGEMAKER_INSTANCE_TYPES`, ...), once at cold start. */
export const sageMakerLimitsConfig = {
  SAGEMAKER_INSTANCE_TYPES: list.default([...DEFAULT_SAGEMAKER_LIMITS.instanceTypes]),
  SAGEMAKER_MAX_INSTANCES: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(DEFAULT_SAGEMAKER_LIMITS.maxInstances),
  /** Full repository URIs; without it no image passes (the CDK app always sets it). */
  SAGEMAKER_IMAGE_REPOSITORIES: list.default([]),
};

export function sageMakerLimits(config: {
  SAGEMAKER_INSTANCE_TYPES: string[];
  SAGEMAKER_MAX_INSTANCES: number;
  SAGEMAKER_IMAGE_REPOSITORIES: string[];
}): SageMakerLimits {
  return {
    instanceTypes: config.SAGEMAKER_INSTANCE_TYPES,
    maxInstances: config.SAGEMAKER_MAX_INSTANCES,
    imageRepositories: config.SAGEMAKER_IMAGE_REPOSITORIES,
  };
}

/** `<registry>/<repository>` of an ECR image URI (`...amazonaws.com/repo:tag` or `@sha256:...`). */
export function imageRepository(image: string): string | undefined {
  const match =
    /^([0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?)\/([a-z0-9._/-]+?)(?::[\w.-]+|@sha256:[0-9a-f]{64})?$/.exec(
      image,
    );
  return match ? `${match[1]}/${match[2]}` : undefined;
}

/** A problem with an endpoint's SageMaker settings under `limits`, as `[wire field, sentence]`, or none. */
export function sageMakerSettingsProblem(
  settings: NonNullable<Endpoint['sagemaker']>,
  limits: SageMakerLimits,
): [field: string, problem: string] | undefined {
  if (!limits.instanceTypes.includes(settings.instanceType)) {
    return [
      'instance_type',
      `this Runway allows ${limits.instanceTypes.join(', ')} (the deployer sets them with -c sagemakerInstanceTypes=...)`,
    ];
  }
  if (settings.initialInstanceCount > limits.maxInstances) {
    return [
      'initial_instance_count',
      `this Runway allows at most ${limits.maxInstances} instances per endpoint (the deployer sets it with -c sagemakerMaxInstances=...)`,
    ];
  }
  if (settings.image !== undefined) {
    const repository = imageRepository(settings.image);
    if (!repository || !limits.imageRepositories.includes(repository)) {
      return [
        'image',
        `the serving image must come from ${limits.imageRepositories.join(', ') || 'a repository the deployer names'} (the deployer names them with -c sagemakerImageRepositories=...)`,
      ];
    }
  }
  return undefined;
}
