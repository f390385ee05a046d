import { s3Client } from '../../../platform/aws/s3.ts';
import { logger } from '../../../platform/logger.ts';
import { checkModel, type ModelCheckReport } from '../../../serving/model-check.ts';
import { modelFilesAt } from '../../../serving/model-files.ts';
import { MAX_MLMODEL_BYTES } from '../../../serving/onnx-model.ts';
import { ModelInvalidError, SmokeTestFailedError } from '../errors.ts';
import type { ModelVerifier } from '../ports.ts';

/**
 * The model server's own checks, as the deploy's model-checks function asks for them (it alone loads
 * ONNX Runtime). `checkModel` loads the model once and runs both the static checks and the smoke
 * test; CheckModel and SmokeTest are separate states (so an execution says which one failed), and
 * the second reads the report the first made in this container rather than loading the model again.
 */
export function createModelVerifier(): ModelVerifier {
  const reports = new Map<string, ModelCheckReport>();
  const report = async (location: string): Promise<ModelCheckReport> => {
    const cached = reports.get(location);
    if (cached) return cached;
    const fresh = await checkModel(location);
    reports.clear();
    reports.set(location, fresh);
    for (const warning of fresh.warnings) logger.warn('model check', { location, warning });
    return fresh;
  };
  const verifier: ModelVerifier = {
    async check(location, target) {
      if (target === 'sagemaker') {
        // SageMaker serves any flavor its image loads: only the MLmodel file must be there.
        const mlmodel = await modelFilesAt(location, s3Client).read('MLmodel', MAX_MLMODEL_BYTES);
        if (!mlmodel)
          throw new ModelInvalidError(`There is no MLmodel file at ${location}: not an MLflow model`);
        return;
      }
      const checked = await report(location);
      // The smoke test's problem, when there is one, is the report's last: SmokeTest reports it.
      const smokeFailed = checked.smokeTest !== undefined && !checked.smokeTest.ok;
      const problems = smokeFailed ? checked.problems.slice(0, -1) : checked.problems;
      if (problems.length > 0) throw new ModelInvalidError(problems.join('; '));
    },
    async smokeTest(location) {
      const checked = await report(location);
      reports.delete(location);
      const smoke = checked.smokeTest;
      if (smoke && !smoke.ok) {
        throw new SmokeTestFailedError(
          `The model fails on its own ${smoke.input}: ${smoke.error ?? 'no answer'}`,
        );
      }
    },
  };
  return verifier;
}
