/**
 * Lambda entry point for access management: Runway tokens (`runway/tokens/create|list|revoke`) and
 * MLflow's permission endpoints (`mlflow/experiments/permissions/...`,
 * `mlflow/registered-models/permissions/...`). Checked by the same access layer as every API function.
 */
import { createAccessApi } from '../shared/access/access.module.ts';
import { createHttpHandler } from '../shared/platform/http/http-handler.ts';

const { operations, access } = createAccessApi();

export const handler = createHttpHandler({ operations, access });
