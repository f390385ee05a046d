import { CloudWatchClient, DeleteAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import {
  DeleteEndpointCommand,
  DeleteEndpointConfigCommand,
  DeleteModelCommand,
  DescribeEndpointCommand,
  ListEndpointConfigsCommand,
  ListEndpointsCommand,
  ListModelsCommand,
  ListTagsCommand,
  SageMakerClient,
} from '@aws-sdk/client-sagemaker';
import type { SageMakerResource, SageMakerResources } from '../ports.ts';

/** What the adapter needs of an SDK client: `send` (tests hand it the checked fake's). */
export interface CommandSender {
  send(command: object): Promise<unknown>;
}

/** SageMaker answers a missing resource with a ValidationException that says so. */
const isMissing = (error: unknown) =>
  error instanceof Error &&
  (error.name === 'ResourceNotFound' ||
    (error.name === 'ValidationException' && /could not find|does not exist/i.test(error.message)));

/**
 * `SageMakerResources` over the SageMaker and CloudWatch APIs (SDK v3). `arnPrefix` is
 * `arn:<partition>:sagemaker:<region>:<account>:`, which `ListTags` needs to name a resource.
 */
export class SdkSageMakerResources implements SageMakerResources {
  constructor(
    private readonly arnPrefix: string,
    private readonly sagemaker: CommandSender = new SageMakerClient({}),
    private readonly cloudwatch: CommandSender = new CloudWatchClient({}),
  ) {}

  async list(kind: SageMakerResource['kind'], nameContains: string): Promise<SageMakerResource[]> {
    const found: SageMakerResource[] = [];
    let NextToken: string | undefined;
    do {
      const input = { NameContains: nameContains, MaxResults: 100, NextToken };
      if (kind === 'model') {
        const page = (await this.sagemaker.send(new ListModelsCommand(input))) as {
          Models?: { ModelName?: string; CreationTime?: Date | string }[];
          NextToken?: string;
        };
        for (const model of page.Models ?? [])
          found.push(resource(kind, model.ModelName, model.CreationTime));
        NextToken = page.NextToken;
      } else if (kind === 'endpoint-config') {
        const page = (await this.sagemaker.send(new ListEndpointConfigsCommand(input))) as {
          EndpointConfigs?: { EndpointConfigName?: string; CreationTime?: Date | string }[];
          NextToken?: string;
        };
        for (const config of page.EndpointConfigs ?? [])
          found.push(resource(kind, config.EndpointConfigName, config.CreationTime));
        NextToken = page.NextToken;
      } else {
        const page = (await this.sagemaker.send(new ListEndpointsCommand(input))) as {
          Endpoints?: { EndpointName?: string; CreationTime?: Date | string }[];
          NextToken?: string;
        };
        for (const endpoint of page.Endpoints ?? [])
          found.push(resource(kind, endpoint.EndpointName, endpoint.CreationTime));
        NextToken = page.NextToken;
      }
    } while (NextToken);
    return found;
  }

  async describeEndpoint(name: string): Promise<{ status: string; configName: string } | undefined> {
    try {
      const output = (await this.sagemaker.send(new DescribeEndpointCommand({ EndpointName: name }))) as {
        EndpointStatus?: string;
        EndpointConfigName?: string;
      };
      return { status: output.EndpointStatus ?? 'Unknown', configName: output.EndpointConfigName ?? '' };
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async delete(kind: SageMakerResource['kind'], name: string): Promise<void> {
    const command =
      kind === 'model'
        ? new DeleteModelCommand({ ModelName: name })
        : kind === 'endpoint-config'
          ? new DeleteEndpointConfigCommand({ EndpointConfigName: name })
          : new DeleteEndpointCommand({ EndpointName: name });
    try {
      await this.sagemaker.send(command);
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
  }

  async deleteAlarms(names: readonly string[]): Promise<void> {
    if (names.length === 0) return;
    try {
      await this.cloudwatch.send(new DeleteAlarmsCommand({ AlarmNames: [...names] }));
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
  }

  async tags(target: SageMakerResource): Promise<Record<string, string>> {
    // SageMaker ARNs hold the name in lower case.
    const arn = `${this.arnPrefix}${target.kind}/${target.name.toLowerCase()}`;
    try {
      const output = (await this.sagemaker.send(new ListTagsCommand({ ResourceArn: arn }))) as {
        Tags?: { Key?: string; Value?: string }[];
      };
      return Object.fromEntries((output.Tags ?? []).map((tag) => [tag.Key ?? '', tag.Value ?? '']));
    } catch (error) {
      if (isMissing(error)) return {};
      throw error;
    }
  }
}

function resource(
  kind: SageMakerResource['kind'],
  name: string | undefined,
  created: Date | string | undefined,
): SageMakerResource {
  return { kind, name: name ?? '', createdAt: created ? new Date(created).getTime() : 0 };
}
