import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ADMIN_TOKEN_FILE } from './admin-token.ts';

export const TOKENS_HELP = `Usage: runway tokens <create|list|revoke> [options]

Manage Runway tokens over HTTP, on a local Runway started with --auth or on a deployment's token API.

  runway tokens create --user NAME [--admin] [--read-only] [--expires-in 30d] [--description TEXT]
      Prints the new token once (it is stored only as a hash). Admins only.
  runway tokens list            Every token (admins) or your own: id, user, flags, expiry, revocation
  runway tokens revoke ID       Revokes a token (admins: any; users: their own)

Options:
  --url URL         Runway's URL (default RUNWAY_URL, else MLFLOW_TRACKING_URI, else http://127.0.0.1:5000)
  --data-dir DIR    A local Runway's data directory, whose admin-token is used when no token is set
                    (default ./.runway, or RUNWAY_DATA_DIR)
The credential is RUNWAY_TOKEN, else MLFLOW_TRACKING_TOKEN, else <data-dir>/${ADMIN_TOKEN_FILE}.
`;

const DURATION = /^(\d+)([smhd]?)$/;
const UNIT_SECONDS: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86400 };

/** `runway tokens ...`; resolves to the exit code. */
export async function tokens(argv: string[]): Promise<number> {
  const [action, ...rest] = argv;
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(rest);
  } catch (error) {
    process.stderr.write(`runway tokens: ${(error as Error).message}. See 'runway tokens --help'.\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help || action === undefined || action === '-h' || action === '--help') {
    process.stdout.write(TOKENS_HELP);
    return action === undefined ? 1 : 0;
  }
  const url = (
    values.url ??
    process.env.RUNWAY_URL ??
    process.env.MLFLOW_TRACKING_URI ??
    'http://127.0.0.1:5000'
  ).replace(/\/+$/, '');
  const token = credential(values['data-dir']);
  if (!token) {
    process.stderr.write(
      `runway tokens: no credential: set RUNWAY_TOKEN, or start Runway with --auth so that ${ADMIN_TOKEN_FILE} exists in the data directory\n`,
    );
    return 2;
  }
  const call = (method: string, route: string, body?: unknown) => request(url, token, method, route, body);
  switch (action) {
    case 'create': {
      if (!values.user) {
        process.stderr.write('runway tokens create: --user is required\n');
        return 2;
      }
      let expiresIn: number | undefined;
      if (values['expires-in'] !== undefined) {
        const match = DURATION.exec(values['expires-in']);
        if (!match) {
          process.stderr.write(`runway tokens create: --expires-in must look like 3600, 90m, 12h or 30d\n`);
          return 2;
        }
        expiresIn = Number(match[1]) * (UNIT_SECONDS[match[2] ?? ''] ?? 1);
      }
      const result = await call('POST', 'runway/tokens/create', {
        user: values.user,
        admin: values.admin ?? false,
        read_only: values['read-only'] ?? false,
        ...(expiresIn !== undefined ? { expires_in_seconds: expiresIn } : {}),
        ...(values.description ? { description: values.description } : {}),
      });
      if (!result.ok) return fail(result.body);
      const info = result.body.token_info as Record<string, unknown>;
      process.stdout.write(`${result.body.token}\n`);
      process.stderr.write(
        `token ${info.token_id} for ${info.user}${info.admin ? ' (admin)' : ''}${info.read_only ? ' (read-only)' : ''}` +
          `${info.expires_at ? `, expires ${new Date(Number(info.expires_at)).toISOString()}` : ''}; it is shown only now\n`,
      );
      return 0;
    }
    case 'list': {
      const result = await call('GET', 'runway/tokens/list');
      if (!result.ok) return fail(result.body);
      const rows = ((result.body.tokens ?? []) as Array<Record<string, unknown>>).map((t) =>
        [
          t.token_id,
          t.user,
          [t.admin ? 'admin' : '', t.read_only ? 'read-only' : ''].filter(Boolean).join(',') || '-',
          t.expires_at ? new Date(Number(t.expires_at)).toISOString() : 'never',
          t.revoked_at ? `revoked ${new Date(Number(t.revoked_at)).toISOString()}` : 'active',
          t.description ?? '',
        ].join('\t'),
      );
      process.stdout.write(['ID\tUSER\tFLAGS\tEXPIRES\tSTATE\tDESCRIPTION', ...rows, ''].join('\n'));
      return 0;
    }
    case 'revoke': {
      const id = positionals[0];
      if (!id) {
        process.stderr.write('runway tokens revoke: give the token id (see runway tokens list)\n');
        return 2;
      }
      const result = await call('POST', 'runway/tokens/revoke', { token_id: id });
      if (!result.ok) return fail(result.body);
      process.stdout.write(`revoked ${id}\n`);
      return 0;
    }
    default:
      process.stderr.write(`runway tokens: unknown action '${action}'. See 'runway tokens --help'.\n`);
      return 2;
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      url: { type: 'string' },
      'data-dir': { type: 'string' },
      user: { type: 'string' },
      admin: { type: 'boolean' },
      'read-only': { type: 'boolean' },
      'expires-in': { type: 'string' },
      description: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  });
}

function credential(dataDir: string | undefined): string | undefined {
  const fromEnv = process.env.RUNWAY_TOKEN || process.env.MLFLOW_TRACKING_TOKEN;
  if (fromEnv) return fromEnv.trim();
  const file = path.join(path.resolve(dataDir ?? process.env.RUNWAY_DATA_DIR ?? '.runway'), ADMIN_TOKEN_FILE);
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
}

async function request(
  url: string,
  token: string,
  method: string,
  route: string,
  body?: unknown,
): Promise<{ ok: boolean; body: Record<string, unknown> }> {
  try {
    const response = await fetch(`${url}/api/2.0/${route}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      parsed = { message: text.slice(0, 200) };
    }
    return { ok: response.ok, body: { status: response.status, ...parsed } };
  } catch (error) {
    return { ok: false, body: { message: `cannot reach ${url}: ${(error as Error).message}` } };
  }
}

function fail(body: Record<string, unknown>): number {
  const code = body.error_code ? `${body.error_code}: ` : body.status ? `HTTP ${body.status}: ` : '';
  process.stderr.write(`runway tokens: ${code}${body.message ?? 'request failed'}\n`);
  return 1;
}
