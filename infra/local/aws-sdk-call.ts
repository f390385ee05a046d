/**
 * Calls any AWS API by service and action names, as Step Functions' `aws-sdk:<service>:<action>`
 * integrations and optimised integrations do, through the SDK v3 client of that service (when it is
 * installed) pointed at the local endpoints.
 */
export function createAwsSdkCaller(
  clientConfig: Record<string, unknown>,
  /** The local endpoint of a client package (e.g. `@aws-sdk/client-dynamodb`), if emulated. */
  endpointFor: (packageName: string) => string | undefined,
) {
  const clients = new Map<string, { send(command: unknown): Promise<unknown> }>();
  return async (service: string, action: string, params: Record<string, unknown>): Promise<unknown> => {
    const packageName = `@aws-sdk/client-${service === 'states' ? 'sfn' : service.toLowerCase()}`;
    let module: Record<string, unknown>;
    try {
      module = (await import(packageName)) as Record<string, unknown>;
    } catch {
      throw Object.assign(
        new Error(`The local runtime cannot call ${service}:${action}: ${packageName} is not installed`),
        {
          name: 'States.Runtime',
        },
      );
    }
    const commandName = `${action.charAt(0).toUpperCase()}${action.slice(1)}Command`;
    const Command = module[commandName] as (new (input: unknown) => unknown) | undefined;
    const clientName = Object.keys(module).find((name) => name.endsWith('Client') && !name.startsWith('__'));
    if (!Command || !clientName) {
      throw Object.assign(new Error(`${packageName} has no ${commandName}`), { name: 'States.Runtime' });
    }
    let client = clients.get(packageName);
    if (!client) {
      const Client = module[clientName] as new (
        config: unknown,
      ) => { send(command: unknown): Promise<unknown> };
      const endpoint = endpointFor(packageName);
      client = new Client({ ...clientConfig, ...(endpoint ? { endpoint, forcePathStyle: true } : {}) });
      clients.set(packageName, client);
    }
    const { $metadata: _metadata, ...output } = (await client.send(new Command(params))) as Record<
      string,
      unknown
    >;
    return output;
  };
}
