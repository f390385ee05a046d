import { InvalidParameterError, ResourceDoesNotExistError } from '../../platform/errors.ts';
import type { Clock } from '../ports.ts';
import { systemClock } from '../ports.ts';
import {
  ASSESSMENT_LIMITS,
  type Assessment,
  type AssessmentValue,
  newAssessmentId,
  validateAssessment,
} from './assessment.model.ts';
import { isTraceId } from './model.ts';
import type { TraceRepository } from './ports.ts';
import { traceNotFound, updateTrace } from './trace-store.ts';

/** An assessment as a client creates it: the server sets its id, trace, times and validity. */
export type NewAssessment = Omit<
  Assessment,
  'assessmentId' | 'traceId' | 'createTime' | 'lastUpdateTime' | 'valid'
> & {
  createTime?: number | undefined;
};

/** The fields `UpdateAssessment` may change, by its `update_mask` paths. */
export interface AssessmentChanges {
  name?: string | undefined;
  feedback?: Extract<AssessmentValue, { kind: 'feedback' }> | undefined;
  expectation?: Extract<AssessmentValue, { kind: 'expectation' }> | undefined;
  rationale?: string | undefined;
  metadata?: Map<string, string> | undefined;
  valid?: boolean | undefined;
}

/**
 * Assessments (feedback and expectations people and judges attach to a trace), kept in the trace's
 * item so that a search answers them without further reads. Rules are MLflow's SQL store's: an
 * assessment that `overrides` another makes that one invalid, and deleting it makes that one valid
 * again; updates keep the source, span and creation time and merge metadata.
 */
export class AssessmentService {
  private readonly clock: Clock;

  constructor(
    private readonly traces: TraceRepository,
    deps: { clock?: Clock } = {},
  ) {
    this.clock = deps.clock ?? systemClock;
  }

  async create(traceId: string, input: NewAssessment): Promise<Assessment> {
    const now = this.clock.now();
    const assessment = validateAssessment({
      ...input,
      assessmentId: newAssessmentId(),
      traceId,
      createTime: input.createTime ?? now,
      lastUpdateTime: now,
      valid: true,
    });
    await updateTrace(this.traces, traceId, (trace) => {
      if (trace.assessments.length >= ASSESSMENT_LIMITS.perTrace) {
        throw new InvalidParameterError(`A trace can have at most ${ASSESSMENT_LIMITS.perTrace} assessments`);
      }
      let assessments = trace.assessments;
      if (assessment.overrides !== undefined) {
        if (!assessments.some((existing) => existing.assessmentId === assessment.overrides)) {
          throw new ResourceDoesNotExistError(
            `Assessment with ID '${assessment.overrides}' not found for trace '${traceId}'`,
          );
        }
        assessments = assessments.map((existing) =>
          existing.assessmentId === assessment.overrides ? { ...existing, valid: false } : existing,
        );
      }
      return { ...trace, assessments: [...assessments, assessment] };
    });
    return assessment;
  }

  async get(traceId: string, assessmentId: string): Promise<Assessment> {
    const trace = isTraceId(traceId) ? await this.traces.get(traceId) : undefined;
    if (!trace) throw new ResourceDoesNotExistError(`Trace with request_id '${traceId}' not found`);
    const assessment = trace.assessments.find((existing) => existing.assessmentId === assessmentId);
    if (!assessment) throw assessmentNotFound(traceId, assessmentId);
    return assessment;
  }

  async update(traceId: string, assessmentId: string, changes: AssessmentChanges): Promise<Assessment> {
    if (changes.feedback && changes.expectation) {
      throw new InvalidParameterError('Cannot specify both `expectation` and `feedback` parameters.');
    }
    let updated: Assessment | undefined;
    await updateTrace(this.traces, traceId, (trace) => {
      const existing = trace.assessments.find((assessment) => assessment.assessmentId === assessmentId);
      if (!existing) throw assessmentNotFound(traceId, assessmentId);
      if (changes.expectation && existing.value.kind !== 'expectation') {
        throw new InvalidParameterError('Cannot update expectation value on a Feedback assessment.');
      }
      if (changes.feedback && existing.value.kind !== 'feedback') {
        throw new InvalidParameterError('Cannot update feedback value on an Expectation assessment.');
      }
      const next = validateAssessment({
        ...existing,
        name: changes.name ?? existing.name,
        value: changes.feedback ?? changes.expectation ?? existing.value,
        rationale: changes.rationale ?? existing.rationale,
        metadata: changes.metadata ? new Map([...existing.metadata, ...changes.metadata]) : existing.metadata,
        valid: changes.valid ?? existing.valid,
        lastUpdateTime: this.clock.now(),
      });
      updated = next;
      return {
        ...trace,
        assessments: trace.assessments.map((assessment) =>
          assessment.assessmentId === assessmentId ? next : assessment,
        ),
      };
    });
    return updated as Assessment;
  }

  /** Deleting a missing assessment is fine (MLflow: idempotent); a missing trace is 404. */
  async delete(traceId: string, assessmentId: string): Promise<void> {
    if (!isTraceId(traceId)) throw traceNotFound(traceId);
    const trace = await this.traces.get(traceId);
    if (!trace) throw traceNotFound(traceId);
    if (!trace.assessments.some((assessment) => assessment.assessmentId === assessmentId)) return;
    await updateTrace(this.traces, traceId, (current) => {
      const doomed = current.assessments.find((assessment) => assessment.assessmentId === assessmentId);
      if (!doomed) return current;
      return {
        ...current,
        assessments: current.assessments
          .filter((assessment) => assessment.assessmentId !== assessmentId)
          .map((assessment) =>
            doomed.overrides !== undefined && assessment.assessmentId === doomed.overrides
              ? { ...assessment, valid: true }
              : assessment,
          ),
      };
    });
  }
}

function assessmentNotFound(traceId: string, assessmentId: string): ResourceDoesNotExistError {
  return new ResourceDoesNotExistError(
    `Assessment with ID '${assessmentId}' not found for trace '${traceId}'`,
  );
}
