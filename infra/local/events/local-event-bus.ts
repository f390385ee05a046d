import { randomUUID } from 'node:crypto';
import { appendFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { CloudTemplate } from '../cloud-template.ts';
import { type CompiledEventPattern, compileEventPattern } from './event-pattern.ts';
import { nextFireTime, ScheduleExhaustedError, validateScheduleExpression } from './schedule.ts';
import { applyTargetInput, type TargetInput } from './target-input.ts';

/** What a rule's targets can be locally: functions, state machines, other buses. */
export interface EventTargetInvoker {
  /** Asynchronous invoke (InvocationType Event): resolves when the function has run. */
  invokeFunction(functionArn: string, event: unknown): Promise<unknown>;
  startExecution(stateMachineArn: string, input: string): Promise<unknown>;
}

export interface EventBridgeEvent {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: unknown;
}

interface LocalTarget extends TargetInput {
  id: string;
  arn: string;
  maxRetries: number;
  deadLetterArn?: string | undefined;
}

interface LocalRule {
  name: string;
  arn: string;
  busName: string;
  enabled: boolean;
  pattern?: CompiledEventPattern | undefined;
  schedule?: string | undefined;
  targets: LocalTarget[];
}

/** The outcome of delivering one event to one target, kept for inspection and tests. */
export interface Delivery {
  eventId: string;
  rule: string;
  target: string;
  targetArn: string;
  status: 'delivered' | 'failed';
  attempts: number;
  error?: string;
}

export interface LocalEventBusOptions {
  region: string;
  accountId: string;
  /** Where events that exhaust their retries are written (`dead-letter.jsonl`). */
  dataDir: string;
  /** Local retries are capped so a failing target does not retry for 24 h as on AWS. @default 3 */
  maxLocalRetries?: number;
  /** @default 200 ms, doubled each retry */
  retryBaseDelayMs?: number;
  log?: (line: string) => void;
}

/** EventBridge's limit on PutEvents. */
const MAX_ENTRIES = 10;
const MAX_REQUEST_BYTES = 256 * 1024;
/** setTimeout's largest delay. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The Runway event buses of the synthesized app, run locally: PutEvents, matching every enabled
 * rule's pattern (the faithful matcher in `event-pattern.ts`), delivery to each target with its
 * input transformation, retries with backoff, a dead-letter file, and scheduled rules.
 */
export class LocalEventBus {
  readonly buses: Set<string>;
  readonly rules: LocalRule[];
  readonly deliveries: Delivery[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly listeners = new Set<(delivery: Delivery) => void>();

  constructor(
    template: CloudTemplate,
    private readonly targets: EventTargetInvoker,
    private readonly options: LocalEventBusOptions,
  ) {
    this.buses = new Set([
      'default',
      ...template.resourcesOfType('AWS::Events::EventBus').map((bus) => template.physicalName(bus)),
    ]);
    this.rules = template.resourcesOfType('AWS::Events::Rule').map((rule) => {
      const props = template.resolve(rule.stackName, rule.properties) as RuleProperties;
      // A schedule AWS would reject fails the start-up, naming the rule, as a deploy would.
      if (props.ScheduleExpression) validateScheduleExpression(props.ScheduleExpression);
      return {
        name: template.physicalName(rule),
        arn: template.arn(rule),
        busName: busNameOf(props.EventBusName ?? 'default'),
        enabled: (props.State ?? 'ENABLED') === 'ENABLED',
        pattern: props.EventPattern === undefined ? undefined : compileEventPattern(props.EventPattern),
        schedule: props.ScheduleExpression,
        targets: (props.Targets ?? []).map((target) => ({
          id: target.Id,
          arn: target.Arn,
          input: target.Input,
          inputPath: target.InputPath,
          inputTransformer: target.InputTransformer,
          maxRetries: Math.min(
            target.RetryPolicy?.MaximumRetryAttempts ?? 185,
            this.options.maxLocalRetries ?? 3,
          ),
          deadLetterArn: target.DeadLetterConfig?.Arn,
        })),
      };
    });
  }

  /** Calls `listener` after every delivery attempt ends. Returns an unsubscribe function. */
  onDelivery(listener: (delivery: Delivery) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** EventBridge's PutEvents: validates each entry, answers at once, delivers in the background. */
  putEvents(entries: readonly PutEventsEntry[]): PutEventsResult {
    const results = entries.map((entry) => this.putOne(entry));
    return { FailedEntryCount: results.filter((result) => 'ErrorCode' in result).length, Entries: results };
  }

  /** The EventBridge JSON API (awsJson1_1, `X-Amz-Target: AWSEvents.<Action>`). */
  async handleApiRequest(action: string, body: unknown): Promise<{ status: number; body: unknown }> {
    const input = (body ?? {}) as { Entries?: PutEventsEntry[] };
    switch (action) {
      case 'PutEvents': {
        const entries = input.Entries ?? [];
        if (entries.length === 0 || entries.length > MAX_ENTRIES) {
          return apiError('ValidationException', `Entries must hold 1 to ${MAX_ENTRIES} entries`);
        }
        if (JSON.stringify(entries).length > MAX_REQUEST_BYTES) {
          return apiError(
            'ValidationException',
            'Total size of the entries in the request is over the limit',
          );
        }
        return { status: 200, body: this.putEvents(entries) };
      }
      case 'ListRules':
        return {
          status: 200,
          body: {
            Rules: this.rules.map((rule) => ({
              Name: rule.name,
              Arn: rule.arn,
              EventBusName: rule.busName,
              State: rule.enabled ? 'ENABLED' : 'DISABLED',
              ScheduleExpression: rule.schedule,
            })),
          },
        };
      default:
        return apiError('UnknownOperationException', `The local event bus does not support ${action}`);
    }
  }

  /** Starts the timers of every enabled scheduled rule. */
  startSchedules(): void {
    for (const rule of this.rules) {
      if (rule.schedule && rule.enabled) this.scheduleNext(rule);
    }
  }

  /** Fires a scheduled rule now, as if its time had come (CLI and tests). */
  fireSchedule(ruleName: string): EventBridgeEvent {
    const rule = this.rules.find((candidate) => candidate.name === ruleName && candidate.schedule);
    if (!rule) throw new Error(`No scheduled rule named ${ruleName}`);
    const event = this.scheduledEvent(rule);
    this.deliverToRule(rule, event);
    return event;
  }

  /** Resolves when every delivery started so far has ended (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  async close(): Promise<void> {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await this.idle();
  }

  private putOne(entry: PutEventsEntry): { EventId: string } | { ErrorCode: string; ErrorMessage: string } {
    if (!entry.Source || !entry.DetailType) {
      return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameters Source and DetailType are required' };
    }
    let detail: unknown;
    try {
      detail = JSON.parse(entry.Detail ?? '');
    } catch {
      return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed: it must be a JSON object' };
    }
    if (detail === null || typeof detail !== 'object' || Array.isArray(detail)) {
      return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed: it must be a JSON object' };
    }
    const busName = busNameOf(entry.EventBusName ?? 'default');
    if (!this.buses.has(busName)) {
      return { ErrorCode: 'ResourceNotFoundException', ErrorMessage: `Event bus ${busName} does not exist.` };
    }
    const event: EventBridgeEvent = {
      version: '0',
      id: randomUUID(),
      'detail-type': entry.DetailType,
      source: entry.Source,
      account: this.options.accountId,
      time: isoSeconds(entry.Time ? new Date(entry.Time) : new Date()),
      region: this.options.region,
      resources: entry.Resources ?? [],
      detail,
    };
    for (const rule of this.rules) {
      if (rule.enabled && rule.busName === busName && rule.pattern?.matches(event))
        this.deliverToRule(rule, event);
    }
    return { EventId: event.id };
  }

  private deliverToRule(rule: LocalRule, event: EventBridgeEvent): void {
    for (const target of rule.targets) {
      const delivery = this.deliver(rule, target, event).finally(() => this.inFlight.delete(delivery));
      this.inFlight.add(delivery);
    }
  }

  private async deliver(rule: LocalRule, target: LocalTarget, event: EventBridgeEvent): Promise<void> {
    let attempts = 0;
    let lastError = '';
    const base = this.options.retryBaseDelayMs ?? 200;
    while (attempts <= target.maxRetries) {
      attempts++;
      try {
        await this.send(target, applyTargetInput(target, event));
        this.record({
          eventId: event.id,
          rule: rule.name,
          target: target.id,
          targetArn: target.arn,
          status: 'delivered',
          attempts,
        });
        return;
      } catch (error) {
        lastError = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        if (attempts <= target.maxRetries) await sleep(base * 2 ** (attempts - 1));
      }
    }
    const failed: Delivery = {
      eventId: event.id,
      rule: rule.name,
      target: target.id,
      targetArn: target.arn,
      status: 'failed',
      attempts,
      error: lastError,
    };
    this.record(failed);
    this.options.log?.(
      `event ${event.id} to ${rule.name}/${target.id} failed after ${attempts} attempts: ${lastError}`,
    );
    await this.deadLetter(failed, event, target);
  }

  private async send(target: LocalTarget, input: unknown): Promise<void> {
    const service = target.arn.split(':')[2];
    if (service === 'lambda') {
      await this.targets.invokeFunction(target.arn, input);
    } else if (service === 'states') {
      await this.targets.startExecution(target.arn, JSON.stringify(input));
    } else if (service === 'events') {
      const source = input as EventBridgeEvent;
      this.putEvents([
        {
          EventBusName: target.arn,
          Source: source.source,
          DetailType: source['detail-type'],
          Detail: JSON.stringify(source.detail),
          Resources: source.resources,
        },
      ]);
    } else {
      throw new Error(`Target ${target.arn} is of a kind the local runtime does not deliver to`);
    }
  }

  private record(delivery: Delivery): void {
    this.deliveries.push(delivery);
    if (this.deliveries.length > 1000) this.deliveries.shift();
    for (const listener of this.listeners) listener(delivery);
  }

  private async deadLetter(delivery: Delivery, event: EventBridgeEvent, target: LocalTarget): Promise<void> {
    const dir = path.join(this.options.dataDir, 'events');
    await mkdir(dir, { recursive: true });
    const line = JSON.stringify({
      ...delivery,
      deadLetterArn: target.deadLetterArn,
      event,
      at: new Date().toISOString(),
    });
    await appendFile(path.join(dir, 'dead-letter.jsonl'), `${line}\n`);
  }

  /**
   * Arms the rule's next firing. `after` is the previous fire time, not the clock, so a timer that
   * fires a little early or late neither skips nor drifts. Timers over 24 days overflow, so long
   * waits re-arm in steps without firing.
   */
  private scheduleNext(rule: LocalRule, after: Date = new Date()): void {
    let next: Date;
    try {
      next = nextFireTime(rule.schedule as string, after);
    } catch (error) {
      if (!(error instanceof ScheduleExhaustedError)) throw error;
      this.options.log?.(`rule ${rule.name}: its schedule has no further fire time; it will not fire again`);
      return;
    }
    const arm = () => {
      const remaining = next.getTime() - Date.now();
      const timer =
        remaining > MAX_TIMER_MS
          ? setTimeout(arm, MAX_TIMER_MS)
          : setTimeout(
              () => {
                this.deliverToRule(rule, this.scheduledEvent(rule));
                this.scheduleNext(rule, next);
              },
              Math.max(0, remaining),
            );
      timer.unref();
      this.timers.set(rule.name, timer);
    };
    arm();
  }

  private scheduledEvent(rule: LocalRule): EventBridgeEvent {
    return {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: this.options.accountId,
      time: isoSeconds(new Date()),
      region: this.options.region,
      resources: [rule.arn],
      detail: {},
    };
  }
}

export interface PutEventsEntry {
  Source?: string;
  DetailType?: string;
  Detail?: string;
  EventBusName?: string;
  Resources?: string[];
  Time?: string | Date;
}

export interface PutEventsResult {
  FailedEntryCount: number;
  Entries: Array<{ EventId: string } | { ErrorCode: string; ErrorMessage: string }>;
}

interface RuleProperties {
  EventBusName?: string;
  EventPattern?: unknown;
  ScheduleExpression?: string;
  State?: string;
  Targets?: Array<{
    Id: string;
    Arn: string;
    Input?: string;
    InputPath?: string;
    InputTransformer?: { InputPathsMap?: Record<string, string>; InputTemplate: string };
    RetryPolicy?: { MaximumRetryAttempts?: number; MaximumEventAgeInSeconds?: number };
    DeadLetterConfig?: { Arn?: string };
  }>;
}

/** A bus given by name or ARN. */
function busNameOf(nameOrArn: string): string {
  return nameOrArn.startsWith('arn:')
    ? nameOrArn.slice(nameOrArn.indexOf('event-bus/') + 'event-bus/'.length)
    : nameOrArn;
}

/** EventBridge times have no milliseconds: `2019-12-06T18:41:02Z`. */
function isoSeconds(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

function apiError(type: string, message: string) {
  return { status: 400, body: { __type: type, message } };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
