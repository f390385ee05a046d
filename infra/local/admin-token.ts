import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoTokenStore } from '../../shared/access/adapters/access.dynamodb-store.ts';
import { TokenAuthenticator } from '../../shared/access/authenticator.ts';
import { TokenService } from '../../shared/access/token.service.ts';
import type { CloudTemplate } from './cloud-template.ts';

/** Where `runway start --auth` keeps the first admin token (readable by its owner only). */
export const ADMIN_TOKEN_FILE = 'admin-token';

/**
 * Bootstraps a local Runway: unless `<dataDir>/admin-token` holds a token that still works, creates an
 * admin token in the app's access table and writes it there (mode 0600), and returns it. It is never
 * printed; `runway tokens ...` reads it from the file. Without `--auth` the runtime hands it to the
 * edge functions, which know callers by token only. Apps without an access table get none.
 */
export async function ensureAdminToken(
  template: CloudTemplate,
  environment: Record<string, string>,
  dataDir: string,
  log: (line: string) => void,
): Promise<string | undefined> {
  const table = template
    .resourcesOfType('AWS::DynamoDB::Table')
    .find((resource) => /^AccessTable[0-9A-F]{8}$/.test(resource.logicalId));
  if (!table) return undefined;
  const client = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: environment.AWS_ENDPOINT_URL_DYNAMODB,
      region: environment.AWS_REGION,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
  try {
    const store = new DynamoTokenStore(template.physicalName(table), client);
    const file = path.join(dataDir, ADMIN_TOKEN_FILE);
    if (existsSync(file)) {
      const existing = readFileSync(file, 'utf8').trim();
      const current = await new TokenAuthenticator(store).authenticate(`Bearer ${existing}`);
      if (current.ok && current.principal.admin) return existing;
    }
    const bootstrap = { name: 'runway start', kind: 'token', admin: true, ceiling: 'MANAGE' } as const;
    const { token, info } = await new TokenService(store).create(
      { user: 'admin', admin: true, description: 'created by runway start' },
      bootstrap,
    );
    writeFileSync(file, `${token}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
    log(`runway: created admin token ${info.tokenId} in ${file}`);
    return token;
  } finally {
    client.destroy();
  }
}
