/**
 * Lambda entry point of the model server: `POST /endpoints/{name}/invocations` for every endpoint on
 * the Lambda target. Built once per container; models load on first use and stay cached, and the
 * endpoint's traffic split is re-read at most once a second.
 */
import {
  createModelServer,
  createModelServerHandler,
  modelServerConfig,
} from '../shared/serving/serving.module.ts';

export const handler = createModelServerHandler(createModelServer(modelServerConfig()));
