/**
 * One monitor run's pass over its window, hour by hour: the hour's ground-truth feedback is loaded
 * (feedback is filed under the hour of the invocation it labels), then the hour's capture objects are
 * streamed line by line; each invocation's rows feed the feature profiles, its predictions the
 * version's prediction profile, and its labeled rows the version's quality. Memory holds one hour's
 * feedback and the profiles (counts on the baseline's grid), never the window's records.
 */

import type { DatasetStatistics } from '../../pipelines/dataset/statistics.ts';
import { hourPath } from '../../serving/capture.ts';
import type { Monitor } from '../model.ts';
import type { ObjectSource } from '../ports.ts';
import { readCaptureLine } from './capture-reader.ts';
import { type FeatureBaseline, FeatureProfile, type FeatureReport, Reservoir } from './feature-drift.ts';
import { QualityCollector, type QualityReport } from './quality.ts';

export const CAPTURE_ROOT = 'serving-capture';
export const FEEDBACK_ROOT = 'serving-feedback';
const HOUR_MS = 3600_000;
/** Objects read ahead of the one being analyzed: I/O overlaps the work, memory stays a few objects. */
const PREFETCH = 4;
/** Predictions a version's reference keeps (a uniform sample of its first full window). */
export const REFERENCE_SAMPLE = 5000;

export interface WindowInput {
  monitor: Pick<
    Monitor,
    'name' | 'endpointName' | 'features' | 'drift' | 'minSamples' | 'quality' | 'predictionDrift'
  >;
  windowStart: number;
  windowEnd: number;
  /** The baseline's statistics; absent when the served version has none (nothing to compare with). */
  baseline: DatasetStatistics | undefined;
  /** The model's input names (MLmodel metadata `features` or its column signature). */
  modelFeatures: string[] | undefined;
  /** For quality, when the monitor does not say: from the model's metadata. */
  problemType: 'binary_classification' | 'regression' | undefined;
  positiveClass: string | undefined;
  /** Each version's prediction reference, when it has one. */
  predictionReferences: ReadonlyMap<string, FeatureBaseline>;
  /** Seeds the reservoirs, so a run is reproducible. */
  seed: number;
}

export interface WindowResult {
  records: number;
  skipped: Record<string, number>;
  rows: number;
  rowsByVersion: Record<string, number>;
  /** Invocations by version and status class, from capture (a sample: health uses the serving statistics). */
  objects: number;
  newColumns: string[];
  features: FeatureReport[];
  predictions: FeatureReport[];
  /** Predictions sampled per version without a reference yet: their first full window. */
  predictionSamples: Map<string, Reservoir>;
  quality: QualityReport[];
  feedback: { received: number; matched: number };
  notEnoughData?: string;
  tests: number;
  alpha: number;
}

export async function analyzeWindow(source: ObjectSource, input: WindowInput): Promise<WindowResult> {
  const { monitor } = input;
  const baselineColumns = new Map((input.baseline?.columns ?? []).map((column) => [column.name, column]));
  const watched = monitor.features ?? input.modelFeatures;
  const profiles = new Map<string, FeatureProfile>();
  const newColumns = new Set<string>();
  const profileOf = (column: string): FeatureProfile | undefined => {
    const existing = profiles.get(column);
    if (existing) return existing;
    if (watched ? !watched.includes(column) : !baselineColumns.has(column)) {
      if (!baselineColumns.has(column)) newColumns.add(column);
      return undefined;
    }
    const profile = new FeatureProfile(column, baselineColumns.get(column));
    profiles.set(column, profile);
    return profile;
  };
  for (const name of watched ?? []) profileOf(name);
  // Requests of one client share their columns: where each goes is worked out once per layout.
  const layouts = new Map<
    string,
    { targets: Array<FeatureProfile | undefined>; absent: FeatureProfile[]; known: number }
  >();
  const layoutOf = (columns: string[]) => {
    const key = columns.join('\u0000');
    let layout = layouts.get(key);
    // Rebuilt when a later record made a new profile (discovered features).
    if (!layout || layout.known !== profiles.size) {
      const targets = columns.map(profileOf);
      const absent = [...profiles.values()].filter((profile) => !targets.includes(profile));
      layout = { targets, absent, known: profiles.size };
      layouts.set(key, layout);
    }
    return layout;
  };

  const predictionProfiles = new Map<string, FeatureProfile>();
  const samples = new Map<string, Reservoir>();
  const quality = new Map<string, QualityCollector>();
  const problemType = monitor.quality?.problemType ?? input.problemType;
  const qualitySettings = monitor.quality && {
    ...monitor.quality,
    positiveClass: monitor.quality.positiveClass ?? input.positiveClass,
  };
  const result = {
    records: 0,
    skipped: {} as Record<string, number>,
    rows: 0,
    rowsByVersion: {} as Record<string, number>,
    objects: 0,
    feedback: { received: 0, matched: 0 },
  };

  for (
    let hour = input.windowStart - (input.windowStart % HOUR_MS);
    hour < input.windowEnd;
    hour += HOUR_MS
  ) {
    const path = `${monitor.endpointName}/${hourPath(hour)}/`;
    const feedback =
      qualitySettings && problemType ? await readFeedback(source, `${FEEDBACK_ROOT}/${path}`) : new Map();
    result.feedback.received += feedback.size;
    for await (const text of objectsOf(source, `${CAPTURE_ROOT}/${path}`)) {
      result.objects++;
      for (const line of linesOf(text)) {
        if (line.trim() === '') continue;
        const record = readCaptureLine(line, input.modelFeatures);
        if ('skipped' in record) {
          result.skipped[record.skipped] = (result.skipped[record.skipped] ?? 0) + 1;
          continue;
        }
        if (record.at < input.windowStart || record.at >= input.windowEnd) continue;
        result.records++;
        const version = record.version;
        result.rows += record.rows.length;
        result.rowsByVersion[version] = (result.rowsByVersion[version] ?? 0) + record.rows.length;
        const { targets, absent } = layoutOf(record.columns);
        for (const row of record.rows) {
          for (let i = 0; i < targets.length; i++) targets[i]?.add(row[i]);
          // A watched feature the request lacked is missing in each of its rows.
          for (const profile of absent) profile.add(undefined);
        }
        if (monitor.predictionDrift && record.predictions.length > 0) {
          const reference = input.predictionReferences.get(version);
          let profile = predictionProfiles.get(version);
          if (!profile && reference) {
            profile = new FeatureProfile('prediction', reference, 'prediction', version);
            predictionProfiles.set(version, profile);
          }
          let sample = samples.get(version);
          if (!sample && !reference) {
            sample = new Reservoir(REFERENCE_SAMPLE, input.seed + Number(version || 0));
            samples.set(version, sample);
          }
          for (const prediction of record.predictions) {
            profile?.add(prediction);
            sample?.add(prediction);
          }
        }
        const truth = record.inferenceId === undefined ? undefined : feedback.get(record.inferenceId);
        if (truth && qualitySettings && problemType) {
          result.feedback.matched++;
          let collector = quality.get(version);
          if (!collector) {
            collector = new QualityCollector(version, problemType, qualitySettings);
            quality.set(version, collector);
          }
          record.predictions.forEach((prediction, i) => {
            const value = truth.length === 1 && record.predictions.length === 1 ? truth[0] : truth[i];
            if (value !== undefined) collector?.add(value, prediction);
          });
        }
      }
    }
  }

  const enough = result.rows >= monitor.minSamples;
  const featureProfiles = [...profiles.values()];
  const predictionList = [...predictionProfiles.values()];
  const tests = [...featureProfiles, ...predictionList].filter(
    (profile) => profile.testable && profile.present >= monitor.minSamples,
  ).length;
  const alpha = monitor.drift.significance / Math.max(1, tests);
  const judge = (profile: FeatureProfile) => {
    const report = profile.judge(monitor.drift, alpha, monitor.minSamples, monitor.drift.numericMethods);
    if (enough) return report;
    // Too few rows: statistics shown, nothing judged drifted.
    return {
      ...report,
      drifted: false,
      reasons: [],
      notEnoughData: `not enough data (${result.rows} of ${monitor.minSamples})`,
    };
  };
  return {
    ...result,
    newColumns: [...newColumns],
    features: featureProfiles.map(judge),
    predictions: predictionList.map(judge),
    predictionSamples: samples,
    quality: [...quality.values()].map((collector) => collector.report()),
    ...(enough ? {} : { notEnoughData: `not enough data (${result.rows} of ${monitor.minSamples})` }),
    tests,
    alpha,
  };
}

/** One hour's feedback: inference id -> ground truth (a later line for an id replaces an earlier one). */
async function readFeedback(source: ObjectSource, prefix: string): Promise<Map<string, unknown[]>> {
  const feedback = new Map<string, unknown[]>();
  for await (const text of objectsOf(source, prefix)) {
    for (const line of linesOf(text)) {
      if (line.trim() === '') continue;
      try {
        const record = JSON.parse(line) as { inferenceId?: unknown; groundTruth?: unknown };
        if (typeof record.inferenceId === 'string' && Array.isArray(record.groundTruth)) {
          feedback.set(record.inferenceId, record.groundTruth);
        }
      } catch {
        // A line that is not feedback is not ours: skipped.
      }
    }
  }
  return feedback;
}

/** The objects under a prefix, in key order, each read whole, {@link PREFETCH} ahead of the one in use. */
async function* objectsOf(source: ObjectSource, prefix: string): AsyncIterable<string> {
  const keys: string[] = [];
  for await (const key of source.list(prefix)) keys.push(key);
  const pending: Array<Promise<string>> = [];
  let next = 0;
  const fill = () => {
    while (pending.length < PREFETCH && next < keys.length) {
      const read = source.read(keys[next++] as string);
      // Awaited in turn below; a failure ahead of its turn must not be reported as unhandled meanwhile.
      read.catch(() => undefined);
      pending.push(read);
    }
  };
  fill();
  while (pending.length > 0) {
    const text = await (pending.shift() as Promise<string>);
    fill();
    yield text;
  }
}

/** The lines of a text (without their line breaks). */
function linesOf(text: string): string[] {
  return text.split('\n');
}
