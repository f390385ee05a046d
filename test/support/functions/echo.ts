/** Test function: answers with the event it received and the environment it sees. */
export const handler = async (event: unknown) => ({
  statusCode: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({
    event,
    env: {
      TABLE_NAME: process.env.TABLE_NAME,
      RECORDER_ONLY: process.env.RECORDER_ONLY,
      AWS_LAMBDA_FUNCTION_NAME: process.env.AWS_LAMBDA_FUNCTION_NAME,
    },
  }),
});
