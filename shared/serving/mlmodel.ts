import * as z from 'zod';
import { parseMlflowYaml, YamlError } from './mlmodel-yaml.ts';
import { ELEMENT_TYPES } from './tensors.ts';

/**
 * An MLflow model directory's `MLmodel` file as the model server reads it: its flavors (the Lambda
 * target needs `onnx` with `data: <file>`), its signature (MLflow writes each side as a JSON string
 * inside the YAML) and where its input examples are.
 */

/** MLflow's tensor dtypes (numpy names) that the model server feeds: ONNX's, with numpy's names for strings. */
export const TENSOR_DTYPES = [...ELEMENT_TYPES.filter((type) => type !== 'string'), 'str', 'object'] as const;
export type TensorDtype = (typeof TENSOR_DTYPES)[number];

/** MLflow's column types (`mlflow.types.DataType`) with a scalar value per row. */
export const COLUMN_TYPES = ['boolean', 'integer', 'long', 'float', 'double', 'string'] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

const tensorSpec = z
  .object({
    type: z.literal('tensor'),
    name: z.string().min(1).optional(),
    'tensor-spec': z.object({
      dtype: z.enum(TENSOR_DTYPES, { message: `dtype must be one of ${TENSOR_DTYPES.join(', ')}` }),
      shape: z.array(z.number().int().min(-1)).max(32),
    }),
  })
  .transform((spec) => ({
    kind: 'tensor' as const,
    name: spec.name,
    dtype: spec['tensor-spec'].dtype,
    shape: spec['tensor-spec'].shape,
  }));
export type TensorSpec = z.output<typeof tensorSpec>;

const columnSpec = z
  .object({
    type: z.enum(COLUMN_TYPES, {
      message: `column type must be one of ${COLUMN_TYPES.join(', ')} (the Lambda target serves scalar columns)`,
    }),
    name: z.string().min(1).optional(),
    required: z.boolean().default(true),
  })
  .transform((spec) => ({
    kind: 'column' as const,
    name: spec.name,
    type: spec.type,
    required: spec.required,
  }));
export type ColumnSpec = z.output<typeof columnSpec>;

/** One side of a signature: all tensors or all columns, as MLflow's `Schema` requires. */
export type Schema = { kind: 'tensor'; specs: TensorSpec[] } | { kind: 'column'; specs: ColumnSpec[] };

export interface Signature {
  inputs: Schema;
  outputs: Schema | undefined;
}

export interface MlflowModel {
  /** The ONNX file, relative to the model directory (the `onnx` flavor's `data`). */
  onnxPath: string;
  signature: Signature | undefined;
  /** `saved_input_example_info`: files relative to the model directory. */
  inputExample: { artifactPath: string; servingInputPath: string | undefined; type: string } | undefined;
  mlflowVersion: string | undefined;
  modelUuid: string | undefined;
  runId: string | undefined;
  modelSizeBytes: number | undefined;
}

/** The `MLmodel` file cannot be served by the Lambda target; the message says why. */
export class MlmodelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MlmodelError';
  }
}

const relativePath = z
  .string()
  .min(1)
  .max(1024)
  .refine(
    (p) => !p.startsWith('/') && !p.split(/[\\/]/).includes('..'),
    'must be a path inside the model directory',
  );

const mlmodelFile = z.object({
  flavors: z.record(z.string(), z.unknown(), { message: 'flavors must be a mapping' }),
  signature: z
    .object({ inputs: z.string().nullish(), outputs: z.string().nullish(), params: z.unknown().optional() })
    .nullish(),
  saved_input_example_info: z
    .object({
      artifact_path: relativePath,
      serving_input_path: relativePath.nullish(),
      type: z.string().default('unknown'),
    })
    .nullish(),
  mlflow_version: z.string().nullish(),
  model_uuid: z.string().nullish(),
  run_id: z.string().nullish(),
  model_size_bytes: z.number().int().nullish(),
});

const onnxFlavor = z.object({ data: relativePath }, { message: 'the onnx flavor must be a mapping' });

/** Parses an `MLmodel` file; throws `MlmodelError` naming what is wrong. */
export function parseMlmodel(text: string): MlflowModel {
  let yaml: unknown;
  try {
    yaml = parseMlflowYaml(text);
  } catch (error) {
    if (error instanceof YamlError) throw new MlmodelError(`MLmodel is not valid YAML: ${error.message}`);
    throw error;
  }
  const file = mlmodelFile.safeParse(yaml);
  if (!file.success) throw new MlmodelError(`MLmodel is malformed: ${describe(file.error)}`);
  const { flavors } = file.data;
  if (!('onnx' in flavors)) {
    throw new MlmodelError(
      `the model has no onnx flavor (flavors: ${Object.keys(flavors).join(', ') || 'none'}); the Lambda target serves ONNX models: log it with mlflow.onnx.log_model, or deploy it to SageMaker`,
    );
  }
  const onnx = onnxFlavor.safeParse(flavors.onnx);
  if (!onnx.success) throw new MlmodelError(`the onnx flavor is malformed: ${describe(onnx.error)}`);
  const signature = file.data.signature;
  const example = file.data.saved_input_example_info;
  return {
    onnxPath: onnx.data.data,
    signature: signature?.inputs
      ? parseSignature(signature.inputs, signature.outputs ?? undefined)
      : undefined,
    inputExample: example
      ? {
          artifactPath: example.artifact_path,
          servingInputPath: example.serving_input_path ?? undefined,
          type: example.type,
        }
      : undefined,
    mlflowVersion: file.data.mlflow_version ?? undefined,
    modelUuid: file.data.model_uuid ?? undefined,
    runId: file.data.run_id ?? undefined,
    modelSizeBytes: file.data.model_size_bytes ?? undefined,
  };
}

/** Parses the JSON strings of `signature.inputs` and `signature.outputs`. */
export function parseSignature(inputs: string, outputs: string | undefined): Signature {
  return {
    inputs: parseSchema(inputs, 'inputs'),
    outputs: outputs ? parseSchema(outputs, 'outputs') : undefined,
  };
}

function parseSchema(json: string, side: 'inputs' | 'outputs'): Schema {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new MlmodelError(`signature ${side} is not valid JSON`);
  }
  if (!Array.isArray(raw) || raw.length === 0)
    throw new MlmodelError(`signature ${side} must be a non-empty list`);
  const tensors = raw.every((spec) => spec && typeof spec === 'object' && spec.type === 'tensor');
  if (!tensors && raw.some((spec) => spec && typeof spec === 'object' && spec.type === 'tensor')) {
    throw new MlmodelError(`signature ${side} mixes tensor and column specs`);
  }
  const parsed = z.array(tensors ? tensorSpec : columnSpec).safeParse(raw);
  if (!parsed.success) throw new MlmodelError(`signature ${side} is malformed: ${describe(parsed.error)}`);
  const schema = (
    tensors ? { kind: 'tensor', specs: parsed.data } : { kind: 'column', specs: parsed.data }
  ) as Schema;
  const named = schema.specs.filter((spec) => spec.name !== undefined).length;
  if (named !== 0 && named !== schema.specs.length) {
    throw new MlmodelError(`signature ${side}: either every input has a name or none has`);
  }
  if (named === 0 && schema.specs.length > 1) {
    throw new MlmodelError(`signature ${side}: several inputs need names`);
  }
  const names = schema.specs.map((spec) => spec.name);
  const duplicate = names.find((name, i) => name !== undefined && names.indexOf(name) !== i);
  if (duplicate) throw new MlmodelError(`signature ${side}: '${duplicate}' appears twice`);
  return schema;
}

function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}
