import type { Logger } from '../../platform/logger.ts';
import type { Endpoint } from '../model.ts';
import type { EndpointStore, EndpointTeardown } from '../ports.ts';
import type { SageMakerJanitor } from './sagemaker-janitor.ts';

/**
 * The rest of a SageMaker endpoint's delete, once it is `Deleting`: one pass of the teardown (alarms,
 * endpoint, configs, models); when nothing is left the endpoint's items go, else the endpoint says
 * what it still waits for (`status_message`) and the reconciler runs the next pass (every 5 minutes).
 * The endpoints API runs the first pass at once, so billing stops when the DELETE answers.
 */
export class EndpointDeletion implements EndpointTeardown {
  constructor(
    private readonly deps: {
      store: Pick<EndpointStore, 'delete' | 'setStatusMessage'>;
      janitor: Pick<SageMakerJanitor, 'teardown'>;
      logger: Logger;
    },
  ) {}

  async continue(endpoint: Endpoint): Promise<'deleted' | 'deleting'> {
    const { store, janitor, logger } = this.deps;
    if (endpoint.target === 'sagemaker') {
      let message: string;
      try {
        const report = await janitor.teardown(endpoint.name);
        if (!report.done) {
          await store.setStatusMessage(endpoint.name, `Tearing down: ${report.remaining.join('; ')}`);
          return 'deleting';
        }
      } catch (error) {
        message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        logger.error('teardown of a SageMaker endpoint failed; the reconciler retries it', {
          endpointName: endpoint.name,
          error: message,
        });
        await store.setStatusMessage(
          endpoint.name,
          `Tearing down; the last attempt failed and is retried every 5 minutes: ${message}`,
        );
        return 'deleting';
      }
    }
    await store.delete(endpoint.name);
    return 'deleted';
  }
}
