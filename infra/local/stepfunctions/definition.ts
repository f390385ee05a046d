/**
 * Walking and preparing Amazon States Language definitions for `aws-local-stepfunctions`.
 *
 * The runner is given a rewritten copy of each definition that irons out the places where the library and
 * AWS disagree (see {@link prepareForRunner}); the original is what `DescribeStateMachine` reports.
 */

/** A state machine (or a Parallel branch / Map processor) as far as this module needs to know it. */
export interface AslStateMachine {
  StartAt: string;
  States: Record<string, AslState>;
  TimeoutSeconds?: number;
  QueryLanguage?: string;
  [field: string]: unknown;
}

/** One state of a definition; fields are read defensively since definitions come from outside. */
export interface AslState {
  Type: string;
  [field: string]: unknown;
}

/** A Task state found anywhere in a definition (including Parallel branches and Map processors). */
export interface TaskStateInfo {
  name: string;
  resource: string;
  /** Static `TimeoutSeconds`, when the state sets one. */
  timeoutSeconds?: number;
}

/**
 * Longest delay Node timers honour (2^31-1 ms); longer ones fire after 1 ms with a warning, which would
 * turn a "wait forever" into "don't wait at all".
 */
export const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Check the outer shape of a definition; the full validation is left to the runner's ASL validator. */
export function asStateMachine(value: unknown, where: string): AslStateMachine {
  if (!isRecord(value) || typeof value.StartAt !== 'string' || !isRecord(value.States)) {
    throw new Error(`${where}: not a state machine definition (StartAt and States are required)`);
  }
  for (const [name, state] of Object.entries(value.States)) {
    if (!isRecord(state) || typeof state.Type !== 'string') {
      throw new Error(`${where}: state "${name}" has no Type`);
    }
  }
  return value as AslStateMachine;
}

/** The nested state machines of a Parallel or Map state. */
function childMachines(state: AslState, where: string): AslStateMachine[] {
  if (state.Type === 'Parallel' && Array.isArray(state.Branches)) {
    return state.Branches.map((branch, i) => asStateMachine(branch, `${where}.Branches[${i}]`));
  }
  if (state.Type === 'Map') {
    const processor = state.ItemProcessor ?? state.Iterator;
    return processor === undefined ? [] : [asStateMachine(processor, `${where}.ItemProcessor`)];
  }
  return [];
}

/** Visit every state of a definition, depth first, including those of Parallel branches and Map processors. */
export function forEachState(
  machine: AslStateMachine,
  visit: (name: string, state: AslState) => void,
  where = 'definition',
): void {
  for (const [name, state] of Object.entries(machine.States)) {
    visit(name, state);
    for (const child of childMachines(state, `${where}.States.${name}`)) {
      forEachState(child, visit, `${where}.States.${name}`);
    }
  }
}

/**
 * Reject what the runner cannot execute faithfully:
 * - JSONata (`QueryLanguage: "JSONata"`), which the runner silently ignores;
 * - a state name used twice anywhere in the definition: the ASL spec forbids it, and the runner binds
 *   Task handlers and Wait overrides by state name, so a duplicate would silently run the wrong code.
 */
export function assertRunnable(machine: AslStateMachine): void {
  if (machine.QueryLanguage === 'JSONata') {
    throw new Error('JSONata state machines are not supported locally (QueryLanguage: "JSONata")');
  }
  const seen = new Set<string>();
  forEachState(machine, (name, state) => {
    if (state.QueryLanguage === 'JSONata') {
      throw new Error(`state "${name}": JSONata is not supported locally (QueryLanguage: "JSONata")`);
    }
    if (seen.has(name)) throw new Error(`state name "${name}" is used more than once in the definition`);
    seen.add(name);
  });
}

/** Every Task state of a definition, nested ones included. */
export function collectTaskStates(machine: AslStateMachine): TaskStateInfo[] {
  const tasks: TaskStateInfo[] = [];
  forEachState(machine, (name, state) => {
    if (state.Type !== 'Task') return;
    if (typeof state.Resource !== 'string') throw new Error(`Task state "${name}" has no Resource`);
    const timeoutSeconds = typeof state.TimeoutSeconds === 'number' ? state.TimeoutSeconds : undefined;
    tasks.push({
      name,
      resource: state.Resource,
      ...(timeoutSeconds === undefined ? {} : { timeoutSeconds }),
    });
  });
  return tasks;
}

/** What {@link prepareForRunner} produces. */
export interface PreparedDefinition {
  /** The rewritten copy to hand to the runner. */
  definition: AslStateMachine;
  /** Wait durations (ms) by state name, for the runner's `waitTimeOverrides`. */
  waitTimeOverrides: Record<string, number>;
}

const clampSeconds = (seconds: number): number => Math.min(Math.max(seconds, 0), MAX_TIMER_SECONDS);

/**
 * Task states default to a 60 s timeout in the runner, where AWS has none (the Lambda's own timeout applies):
 * give every Task without one the longest timer Node supports, and keep explicit ones within that bound.
 */
function prepareTask(state: AslState): void {
  if (typeof state.TimeoutSeconds === 'number') state.TimeoutSeconds = clampSeconds(state.TimeoutSeconds);
  else if (state.TimeoutSecondsPath === undefined) state.TimeoutSeconds = MAX_TIMER_SECONDS;
}

function scaleRetriers(state: AslState, scale: number): void {
  if (scale === 1 || !Array.isArray(state.Retry)) return;
  for (const retrier of state.Retry) {
    if (!isRecord(retrier)) continue;
    const interval = typeof retrier.IntervalSeconds === 'number' ? retrier.IntervalSeconds : 1;
    retrier.IntervalSeconds = interval * scale;
    if (typeof retrier.MaxDelaySeconds === 'number')
      retrier.MaxDelaySeconds = retrier.MaxDelaySeconds * scale;
  }
}

function prepareWait(name: string, state: AslState, scale: number, overrides: Record<string, number>): void {
  if (scale === 0) {
    overrides[name] = 0;
  } else if (typeof state.Seconds === 'number') {
    state.Seconds = clampSeconds(state.Seconds * scale);
  }
}

/**
 * The runner writes `ResultPath: "$"` to a field literally named "$" and mis-parses paths starting `$[`;
 * "$" is the default, so drop it, and give `$[...]` paths the shape the runner understands.
 */
function normaliseResultPath(holder: Record<string, unknown>): void {
  const path = holder.ResultPath;
  if (path === '$') delete holder.ResultPath;
  else if (typeof path === 'string' && path.startsWith('$[')) holder.ResultPath = path.slice(1);
}

/** The runner ignores a falsy Pass `Result` (0, false, "", null); a constant `Parameters` behaves the same. */
function preparePass(state: AslState): void {
  if ('Result' in state && !state.Result) {
    state.Parameters = state.Result ?? null;
    delete state.Result;
  }
}

/**
 * A copy of `machine` rewritten so that the runner behaves as AWS does, plus the Wait overrides that
 * implement `waitTimeScale`. See each helper for the difference it covers.
 */
export function prepareForRunner(machine: AslStateMachine, waitTimeScale: number): PreparedDefinition {
  const definition = structuredClone(machine);
  const waitTimeOverrides: Record<string, number> = {};
  if (typeof definition.TimeoutSeconds === 'number') {
    definition.TimeoutSeconds = clampSeconds(definition.TimeoutSeconds);
  }
  forEachState(definition, (name, state) => {
    if (state.Type === 'Task') prepareTask(state);
    if (state.Type === 'Wait') prepareWait(name, state, waitTimeScale, waitTimeOverrides);
    if (state.Type === 'Pass') preparePass(state);
    scaleRetriers(state, waitTimeScale);
    normaliseResultPath(state);
    if (Array.isArray(state.Catch)) state.Catch.filter(isRecord).forEach(normaliseResultPath);
  });
  return { definition, waitTimeOverrides };
}
