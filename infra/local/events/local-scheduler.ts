import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { CloudTemplate } from '../cloud-template.ts';
import {
  InvalidScheduleExpressionError,
  nextFireTime,
  ScheduleExhaustedError,
  validateScheduleExpression,
} from './schedule.ts';

/** setTimeout's largest delay. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface ScheduleTarget {
  Arn: string;
  RoleArn: string;
  Input?: string;
  RetryPolicy?: { MaximumRetryAttempts?: number; MaximumEventAgeInSeconds?: number };
}

/** A schedule as CreateSchedule takes it (the fields the local runtime uses; the rest kept as given). */
export interface LocalSchedule {
  Name: string;
  GroupName: string;
  ScheduleExpression: string;
  ScheduleExpressionTimezone?: string;
  State: 'ENABLED' | 'DISABLED';
  Description?: string;
  FlexibleTimeWindow: { Mode: string; MaximumWindowInMinutes?: number };
  Target: ScheduleTarget;
  CreationDate: number;
  LastModificationDate: number;
}

export interface LocalSchedulerOptions {
  region: string;
  accountId: string;
  /** Schedules are kept in `<dataDir>/scheduler/schedules.json` across restarts. */
  dataDir: string;
  /** Starts what a schedule targets: a state machine (the only target Runway uses) or a function. */
  invoke: (arn: string, input: string) => Promise<void>;
  log?: (line: string) => void;
}

interface ApiResult {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/**
 * EventBridge Scheduler for the local runtime: the schedule groups of the synthesized app, and the
 * schedules functions create in them through the Scheduler API (CreateSchedule, UpdateSchedule,
 * GetSchedule, DeleteSchedule; REST JSON, as the SDK sends it). An enabled schedule fires at each
 * time its `rate()` or `cron()` expression names (UTC; EventBridge's grammar, `schedule.ts`), starting
 * its target with its input, Scheduler's context attributes (`<aws.scheduler.scheduled-time>` and
 * friends) filled in. Schedules persist under the data directory and are armed again at start.
 */
export class LocalScheduler {
  private readonly groups: Set<string>;
  private readonly schedules = new Map<string, LocalSchedule>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly file: string;
  private started = false;
  readonly fired: Array<{ schedule: string; scheduledTime: string; ok: boolean; error?: string }> = [];

  constructor(
    template: CloudTemplate,
    private readonly options: LocalSchedulerOptions,
  ) {
    this.groups = new Set([
      'default',
      ...template
        .resourcesOfType('AWS::Scheduler::ScheduleGroup')
        .map((group) => String(template.resolve(group.stackName, group.properties.Name ?? group.logicalId))),
    ]);
    this.file = path.join(options.dataDir, 'scheduler', 'schedules.json');
    try {
      const saved = JSON.parse(readFileSync(this.file, 'utf8')) as LocalSchedule[];
      for (const schedule of saved) this.schedules.set(key(schedule.GroupName, schedule.Name), schedule);
    } catch {
      // No schedules yet.
    }
  }

  /** Arms every enabled schedule. */
  start(): void {
    this.started = true;
    for (const schedule of this.schedules.values()) this.arm(schedule);
  }

  close(): void {
    this.started = false;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  list(): LocalSchedule[] {
    return [...this.schedules.values()];
  }

  /** Fires a schedule now, as if its time had come (tests and the CLI). */
  async fire(groupName: string, name: string, at: Date = new Date()): Promise<void> {
    const schedule = this.schedules.get(key(groupName, name));
    if (!schedule) throw new Error(`No schedule ${groupName}/${name}`);
    await this.deliver(schedule, at);
  }

  /** The Scheduler REST API: `/schedules/{Name}` with the method telling the action. */
  async handleRestRequest(method: string, url: URL, body: unknown): Promise<ApiResult> {
    const match = /^\/schedules\/([^/]+)$/.exec(url.pathname);
    if (!match)
      return error(
        404,
        'UnknownOperationException',
        `The local scheduler does not serve ${method} ${url.pathname}`,
      );
    const name = decodeURIComponent(match[1] as string);
    const input = (body ?? {}) as Record<string, unknown>;
    const group = String(
      (method === 'GET' || method === 'DELETE' ? url.searchParams.get('groupName') : input.GroupName) ??
        'default',
    );
    if (!this.groups.has(group))
      return error(404, 'ResourceNotFoundException', `Schedule group ${group} does not exist.`);
    const id = key(group, name);
    const existing = this.schedules.get(id);
    switch (method) {
      case 'GET':
        if (!existing) return error(404, 'ResourceNotFoundException', `Schedule ${name} does not exist.`);
        return { status: 200, body: { ...existing, Arn: this.arn(existing) } };
      case 'DELETE':
        if (!existing) return error(404, 'ResourceNotFoundException', `Schedule ${name} does not exist.`);
        this.schedules.delete(id);
        this.disarm(id);
        this.save();
        return { status: 200, body: {} };
      case 'POST':
      case 'PUT': {
        if (method === 'POST' && existing)
          return error(409, 'ConflictException', `Schedule ${name} already exists.`);
        if (method === 'PUT' && !existing)
          return error(404, 'ResourceNotFoundException', `Schedule ${name} does not exist.`);
        const problem = validate(name, input);
        if (problem) return error(400, 'ValidationException', problem);
        const now = Date.now();
        const schedule: LocalSchedule = {
          Name: name,
          GroupName: group,
          ScheduleExpression: String(input.ScheduleExpression),
          ...(input.ScheduleExpressionTimezone
            ? { ScheduleExpressionTimezone: String(input.ScheduleExpressionTimezone) }
            : {}),
          State: input.State === 'DISABLED' ? 'DISABLED' : 'ENABLED',
          ...(input.Description ? { Description: String(input.Description) } : {}),
          FlexibleTimeWindow: input.FlexibleTimeWindow as LocalSchedule['FlexibleTimeWindow'],
          Target: input.Target as ScheduleTarget,
          CreationDate: existing?.CreationDate ?? now,
          LastModificationDate: now,
        };
        this.schedules.set(id, schedule);
        this.disarm(id);
        if (this.started) this.arm(schedule);
        this.save();
        return { status: 200, body: { ScheduleArn: this.arn(schedule) } };
      }
      default:
        return error(405, 'ValidationException', `${method} is not a Scheduler action`);
    }
  }

  private arn(schedule: LocalSchedule): string {
    return `arn:aws:scheduler:${this.options.region}:${this.options.accountId}:schedule/${schedule.GroupName}/${schedule.Name}`;
  }

  private arm(schedule: LocalSchedule, after: Date = new Date()): void {
    if (schedule.State !== 'ENABLED') return;
    let next: Date;
    try {
      next = nextFireTime(schedule.ScheduleExpression, after);
    } catch (caught) {
      if (caught instanceof ScheduleExhaustedError) return;
      throw caught;
    }
    const id = key(schedule.GroupName, schedule.Name);
    const wait = Math.max(0, next.getTime() - Date.now());
    const timer = setTimeout(
      () => {
        this.timers.delete(id);
        if (wait > MAX_TIMER_MS) {
          this.arm(schedule, after);
          return;
        }
        const current = this.schedules.get(id);
        if (current !== schedule) return;
        this.arm(schedule, next);
        void this.deliver(schedule, next);
      },
      Math.min(wait, MAX_TIMER_MS),
    );
    timer.unref();
    this.timers.set(id, timer);
  }

  private disarm(id: string): void {
    const timer = this.timers.get(id);
    if (timer) clearTimeout(timer);
    this.timers.delete(id);
  }

  /** Starts the target with the input, Scheduler's context attributes filled in; retries as its policy says. */
  private async deliver(schedule: LocalSchedule, at: Date): Promise<void> {
    const scheduledTime = at.toISOString().replace(/\.\d{3}Z$/, 'Z');
    const input = (schedule.Target.Input ?? '{}')
      .replaceAll('<aws.scheduler.scheduled-time>', scheduledTime)
      .replaceAll('<aws.scheduler.schedule-arn>', this.arn(schedule))
      .replaceAll('<aws.scheduler.execution-id>', randomUUID())
      .replaceAll('<aws.scheduler.attempt-number>', '1');
    const attempts = Math.min(schedule.Target.RetryPolicy?.MaximumRetryAttempts ?? 185, 3) + 1;
    let last = '';
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        await this.options.invoke(schedule.Target.Arn, input);
        this.record({ schedule: schedule.Name, scheduledTime, ok: true });
        return;
      } catch (caught) {
        last = caught instanceof Error ? caught.message : String(caught);
        await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** (attempt - 1)));
      }
    }
    this.record({ schedule: schedule.Name, scheduledTime, ok: false, error: last });
    this.options.log?.(`schedule ${schedule.GroupName}/${schedule.Name} failed to start its target: ${last}`);
  }

  private record(entry: LocalScheduler['fired'][number]): void {
    this.fired.push(entry);
    if (this.fired.length > 1000) this.fired.shift();
  }

  private save(): void {
    mkdirSync(path.dirname(this.file), { recursive: true });
    const temporary = `${this.file}.tmp`;
    writeFileSync(temporary, JSON.stringify([...this.schedules.values()], null, 2));
    renameSync(temporary, this.file);
  }
}

const key = (group: string, name: string) => `${group}/${name}`;

function error(status: number, type: string, message: string): ApiResult {
  return { status, body: { Message: message }, headers: { 'x-amzn-errortype': type } };
}

/** What Scheduler refuses at CreateSchedule / UpdateSchedule. */
function validate(name: string, input: Record<string, unknown>): string | undefined {
  if (!/^[0-9a-zA-Z-_.]{1,64}$/.test(name)) return `Name ${name} must be 1 to 64 of [0-9a-zA-Z-_.]`;
  const expression = input.ScheduleExpression;
  if (typeof expression !== 'string') return 'ScheduleExpression is required';
  if (!expression.startsWith('at(')) {
    try {
      validateScheduleExpression(expression);
    } catch (caught) {
      if (caught instanceof InvalidScheduleExpressionError) return caught.message;
      throw caught;
    }
  } else return 'at() schedules are not served by the local runtime';
  if (input.ScheduleExpressionTimezone !== undefined && input.ScheduleExpressionTimezone !== 'UTC') {
    return 'The local runtime runs schedules in UTC only';
  }
  const target = input.Target as Partial<ScheduleTarget> | undefined;
  if (!target?.Arn || !target.RoleArn) return 'Target needs Arn and RoleArn';
  const flexible = input.FlexibleTimeWindow as { Mode?: string } | undefined;
  if (!flexible?.Mode) return 'FlexibleTimeWindow is required';
  return undefined;
}
