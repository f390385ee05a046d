import { PRICES } from './prices.ts';

/**
 * Turns what an operation did (requests, request units, invocations, bytes; counted by the local
 * runtime: `npm run bench -- cost`) into US dollars at AWS list prices. Assumptions the local
 * runtime cannot measure are named here, and `docs/cost.md` gives them.
 */

/** Lambda gives a function a whole vCPU at this memory, and a share in proportion below it. */
const FULL_VCPU_MB = 1769;
/** A DynamoDB round trip from Lambda in the same region (p50, request and answer), as billed time. */
export const DYNAMODB_ROUND_TRIP_MS = 4;
/**
 * Lambda's own log lines per invocation in the default text format: START, END and REPORT with its
 * X-Ray line (about 70 + 50 + 300 bytes).
 */
export const LAMBDA_PLATFORM_LOG_BYTES = 420;
/** The share of invocations X-Ray's default rule records beyond its first request each second. */
export const XRAY_SAMPLED_SHARE = 0.05;

/** One function's part of an operation. */
export interface FunctionPart {
  name: string;
  memoryMb: number;
  invocations: number;
  /** Busy milliseconds of its container per invocation, on this machine. */
  activeMs: number;
  /** Round trips to DynamoDB per invocation. */
  roundTrips: number;
  /** Bytes the function logged per invocation. */
  logBytes: number;
}

/** Everything one operation does, per operation. */
export interface OperationUsage {
  functions: FunctionPart[];
  apiRequests: number;
  /** Bytes of the request body (HTTP APIs meter requests in 512 KB steps). */
  requestBytes: number;
  /** Bytes of the API's access log line, per request. */
  accessLogBytes: number;
  dynamodb: { readUnits: number; writeUnits: number };
  s3: { writes: number; reads: number };
  stateTransitions: number;
  events: number;
}

/** The dollars of one operation, by service. */
export interface OperationCost {
  lambda: number;
  apiGateway: number;
  dynamodb: number;
  s3: number;
  stepFunctions: number;
  eventBridge: number;
  logs: number;
  xray: number;
  total: number;
  /** Billed Lambda milliseconds per invocation, by function. */
  billedMs: Record<string, number>;
}

/**
 * The billed duration of one invocation on arm64: this machine's busy time stretched by the CPU
 * share of the function's memory, plus its DynamoDB round trips as waits, rounded up to 1 ms.
 */
export function billedMilliseconds(part: Pick<FunctionPart, 'memoryMb' | 'activeMs' | 'roundTrips'>): number {
  const cpu = part.activeMs * Math.max(1, FULL_VCPU_MB / part.memoryMb);
  return Math.max(1, Math.ceil(cpu + part.roundTrips * DYNAMODB_ROUND_TRIP_MS));
}

export function operationCost(usage: OperationUsage): OperationCost {
  const billedMs: Record<string, number> = {};
  let lambda = 0;
  let logBytes = usage.apiRequests * usage.accessLogBytes;
  let invocations = 0;
  for (const part of usage.functions) {
    if (part.invocations === 0) continue;
    const ms = billedMilliseconds(part);
    billedMs[part.name] = ms;
    lambda +=
      part.invocations *
      (PRICES.lambda.perMillionRequests / 1e6 +
        (ms / 1000) * (part.memoryMb / 1024) * PRICES.lambda.armPerGbSecond);
    logBytes += part.invocations * (part.logBytes + LAMBDA_PLATFORM_LOG_BYTES);
    invocations += part.invocations;
  }
  const apiGateway =
    usage.apiRequests *
    Math.max(1, Math.ceil(usage.requestBytes / PRICES.httpApi.meteredBytes)) *
    (PRICES.httpApi.perMillionRequests / 1e6);
  const dynamodb =
    (usage.dynamodb.readUnits * PRICES.dynamodb.perMillionReadUnits +
      usage.dynamodb.writeUnits * PRICES.dynamodb.perMillionWriteUnits) /
    1e6;
  const s3 =
    (usage.s3.writes * PRICES.s3.perThousandWrites + usage.s3.reads * PRICES.s3.perThousandReads) / 1000;
  const stepFunctions = (usage.stateTransitions * PRICES.stepFunctions.perThousandTransitions) / 1000;
  const eventBridge = (usage.events * PRICES.eventBridge.perMillionEvents) / 1e6;
  const logs = (logBytes / 1024 ** 3) * PRICES.cloudWatch.logsIngestedPerGb;
  const xray = (invocations * XRAY_SAMPLED_SHARE * PRICES.xray.perMillionTraces) / 1e6;
  const total = lambda + apiGateway + dynamodb + s3 + stepFunctions + eventBridge + logs + xray;
  return { lambda, apiGateway, dynamodb, s3, stepFunctions, eventBridge, logs, xray, total, billedMs };
}
