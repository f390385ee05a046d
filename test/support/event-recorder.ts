import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LocalAwsEndpoint } from '../../infra/local/aws-api-server.ts';
import { CloudTemplate } from '../../infra/local/cloud-template.ts';
import { LocalEventBus, type PutEventsEntry } from '../../infra/local/events/local-event-bus.ts';

/** The bus a recorder serves unless told otherwise; point a function's `EVENT_BUS_NAME` at it. */
export const TEST_BUS = 'runway-test-bus';

/** An event as the bus received it. */
export interface RecordedEvent {
  busName: string;
  source: string;
  detailType: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever detail was published.
  detail: any;
}

/**
 * The local runtime's EventBridge (`LocalEventBus` behind `LocalAwsEndpoint`, so the SDK's real
 * PutEvents path runs) with one bus, recording every entry it accepts; failures can be injected.
 * Handler tests point `AWS_ENDPOINT_URL_EVENTBRIDGE` at `endpoint` before importing a handler:
 *
 * ```ts
 * const { recorder, endpoint } = await EventRecorder.start();
 * useEmulators({ EVENT_BUS_NAME: recorder.busName, AWS_ENDPOINT_URL_EVENTBRIDGE: endpoint, ... });
 * ```
 */
export class EventRecorder {
  readonly events: RecordedEvent[] = [];
  /** PutEvents requests received, failed ones included. */
  requests = 0;
  private failures: Array<'entry' | 'request'> = [];
  private readonly endpoint: LocalAwsEndpoint;
  private readonly bus: LocalEventBus;
  private readonly dataDir: string;

  private constructor(readonly busName: string) {
    const template = new CloudTemplate(
      [
        {
          stackName: 'EventRecorder',
          template: { Resources: { Bus: { Type: 'AWS::Events::EventBus', Properties: { Name: busName } } } },
        },
      ],
      'us-east-1',
      '000000000000',
    );
    this.dataDir = mkdtempSync(path.join(tmpdir(), 'runway-event-recorder-'));
    this.bus = new LocalEventBus(
      template,
      {
        invokeFunction: async () => undefined,
        startExecution: async () => undefined,
      },
      { region: 'us-east-1', accountId: '000000000000', dataDir: this.dataDir },
    );
    this.endpoint = new LocalAwsEndpoint([
      {
        targetPrefix: 'AWSEvents',
        contentType: 'application/x-amz-json-1.1',
        handleApiRequest: (action, body) => this.handle(action, body),
      },
    ]);
  }

  /** Starts a recorder with one bus (default `TEST_BUS`); `endpoint` is its EventBridge URL. */
  static async start(busName = TEST_BUS): Promise<{ recorder: EventRecorder; endpoint: string }> {
    const recorder = new EventRecorder(busName);
    return { recorder, endpoint: await recorder.endpoint.listen() };
  }

  /** The next `count` PutEvents requests fail: every entry refused (`entry`) or the whole request (`request`). */
  failNext(count: number, how: 'entry' | 'request' = 'entry'): void {
    this.failures.push(...Array.from({ length: count }, () => how));
  }

  /** Recorded events that match, in the order they were published. */
  where(predicate: (event: RecordedEvent) => boolean): RecordedEvent[] {
    return this.events.filter(predicate);
  }

  /** Events whose detail names this model (`detail.modelName`, as registry events carry it). */
  forModel(modelName: string): RecordedEvent[] {
    return this.where((event) => event.detail?.modelName === modelName);
  }

  async close(): Promise<void> {
    await this.bus.close();
    await this.endpoint.close();
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  private async handle(action: string, body: unknown): Promise<{ status: number; body: unknown }> {
    if (action === 'PutEvents') this.requests += 1;
    const failure = action === 'PutEvents' ? this.failures.shift() : undefined;
    const entries = ((body ?? {}) as { Entries?: PutEventsEntry[] }).Entries ?? [];
    if (failure === 'request') {
      return { status: 400, body: { __type: 'AccessDeniedException', message: 'injected failure' } };
    }
    if (failure === 'entry') {
      return {
        status: 200,
        body: {
          FailedEntryCount: entries.length,
          Entries: entries.map(() => ({ ErrorCode: 'InternalFailure', ErrorMessage: 'injected failure' })),
        },
      };
    }
    const result = await this.bus.handleApiRequest(action, body);
    if (action === 'PutEvents' && result.status === 200) {
      const answers = (result.body as { Entries: Array<{ EventId?: string }> }).Entries;
      entries.forEach((entry, index) => {
        if (!answers[index]?.EventId) return;
        this.events.push({
          busName: entry.EventBusName ?? 'default',
          source: entry.Source ?? '',
          detailType: entry.DetailType ?? '',
          detail: JSON.parse(entry.Detail ?? '{}'),
        });
      });
    }
    return result;
  }
}
