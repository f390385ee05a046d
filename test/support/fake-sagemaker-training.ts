import { gzipSync } from 'node:zlib';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { parseCsv } from '../../shared/pipelines/dataset/csv.ts';
import { classificationMetrics } from '../../shared/pipelines/evaluation/metrics.ts';
import { predict, trainLinearModel } from '../../shared/pipelines/training/linear-models.ts';
import { mlflowModelFiles } from '../../shared/pipelines/training/mlflow-model.ts';

/** A ustar archive of `files` (what a training container's /opt/ml/model becomes). */
export function tarGz(files: Record<string, Uint8Array>): Uint8Array {
  const blocks: Uint8Array[] = [];
  for (const [name, bytes] of Object.entries(files)) {
    const header = new Uint8Array(512);
    const put = (text: string, offset: number) => header.set(new TextEncoder().encode(text), offset);
    put(name, 0);
    put('0000644\0', 100);
    put('0000000\0', 108);
    put('0000000\0', 116);
    put(`${bytes.byteLength.toString(8).padStart(11, '0')}\0`, 124);
    put('00000000000\0', 136);
    put('        ', 148);
    put('0', 156);
    put('ustar\0', 257);
    put('00', 263);
    const sum = header.reduce((total, byte) => total + byte, 0);
    put(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    blocks.push(header, bytes, new Uint8Array((512 - (bytes.byteLength % 512)) % 512));
  }
  blocks.push(new Uint8Array(1024));
  return gzipSync(Buffer.concat(blocks));
}

const S3_URI = /^s3:\/\/([^/]+)\/(.+)$/;

/**
 * A stand-in for `sagemaker:createTrainingJob.sync`: what a user container would do, done in this
 * process. It reads the `train` and `test` channels from S3, fits a logistic regression, writes an
 * MLflow ONNX model and `metrics.json` as `model.tar.gz` under the output path, and answers with
 * DescribeTrainingJob's fields. `calls` records each request's parameters.
 */
export function fakeSageMaker(s3Endpoint: () => string) {
  const calls: Array<Record<string, unknown>> = [];
  /** Jobs whose image tag is `:forever` run until they are stopped. */
  const running = new Map<string, (error: Error) => void>();
  const stopJob = async (service: string, _action: string, params: Record<string, unknown>) => {
    const name = String(params.TrainingJobName);
    calls.push({ service, action: 'stopTrainingJob', TrainingJobName: name });
    running.get(name)?.(
      Object.assign(new Error(`Training job ${name} stopped`), { name: 'TrainingJobStopped' }),
    );
  };
  const runJob = async (service: string, action: string, params: Record<string, unknown>) => {
    calls.push({ service, action, ...params });
    if (service !== 'sagemaker' || action !== 'createTrainingJob')
      throw new Error(`unexpected ${service}:${action}`);
    const image = String((params.AlgorithmSpecification as { TrainingImage?: string }).TrainingImage);
    if (image.endsWith(':forever')) {
      const name = String(params.TrainingJobName);
      return new Promise((_, reject) => running.set(name, reject));
    }
    if (image.endsWith(':missing')) {
      // What DescribeTrainingJob reports as FailureReason when the image cannot be pulled.
      throw Object.assign(new Error(`ClientError: Cannot pull the training image "${image}"`), {
        name: 'TrainingJobFailed',
      });
    }
    const client = new S3Client({
      endpoint: s3Endpoint(),
      forcePathStyle: true,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const read = async (uri: string) => {
      const [, Bucket, Key] = S3_URI.exec(uri) ?? [];
      const object = await client.send(new GetObjectCommand({ Bucket, Key }));
      return parseCsv(await object.Body!.transformToString());
    };
    const channels = params.InputDataConfig as Array<{
      ChannelName: string;
      DataSource: { S3DataSource: { S3Uri: string } };
    }>;
    const uri = (name: string) => channels.find((c) => c.ChannelName === name)!.DataSource.S3DataSource.S3Uri;
    const [train, test] = await Promise.all([read(uri('train')), read(uri('test'))]);
    const features = train.columns.slice(0, -1);
    const matrix = (rows: string[][]) => ({
      x: rows.map((row) => row.slice(0, -1).map(Number)),
      y: rows.map((row) => (row.at(-1) === 'virginica' ? 1 : 0)),
    });
    const fit = matrix(train.rows);
    const model = trainLinearModel('logistic_regression', features, fit.x, fit.y, { l2: 1 });
    const held = matrix(test.rows);
    const metrics = classificationMetrics(
      held.y,
      held.x.map((row) => predict(model, row)),
    );
    const name = String(params.TrainingJobName);
    const { files } = mlflowModelFiles({
      model,
      runId: name,
      target: 'species',
      example: fit.x,
      runwayVersion: 'fake',
    });
    delete files['runway_model.json'];
    const archive = tarGz({ ...files, 'metrics.json': new TextEncoder().encode(JSON.stringify(metrics)) });
    const output = (params.OutputDataConfig as { S3OutputPath: string }).S3OutputPath;
    const [, Bucket, prefix] = S3_URI.exec(output) ?? [];
    const Key = `${prefix}/${name}/output/model.tar.gz`;
    await client.send(new PutObjectCommand({ Bucket, Key, Body: archive }));
    client.destroy();
    return {
      TrainingJobName: name,
      TrainingJobStatus: 'Completed',
      ModelArtifacts: { S3ModelArtifacts: `s3://${Bucket}/${Key}` },
    };
  };
  return { runJob, stopJob, calls };
}
