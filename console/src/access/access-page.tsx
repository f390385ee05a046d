import { useState } from 'preact/hooks';
import { ApiError, api } from '../api/client.ts';
import { useApi } from '../api/use-api.ts';
import type { TokenWire, WhoAmIWire } from '../api/wire.ts';
import { Card, ErrorBox, formatTime, KeyValues, Loading, Page } from '../ui/common.tsx';

/** Who you are, and tokens: everyone sees their own; admins see and create everyone's. */
export function AccessPage() {
  const me = useApi(() => api.get<WhoAmIWire>('runway/whoami'), []);
  const tokens = useApi(() => api.get<{ tokens?: TokenWire[] }>('runway/tokens/list'), []);
  return (
    <Page title="Access">
      <ErrorBox error={me.error} />
      <Loading when={me.loading && !me.data} />
      {me.data ? (
        <Card title="You">
          <KeyValues
            items={[
              { key: 'user', value: me.data.user },
              {
                key: 'signed in with',
                value: me.data.kind === 'token' ? `token ${me.data.token_id ?? ''}` : 'IAM (no token)',
              },
              { key: 'admin', value: me.data.admin ? 'yes' : 'no' },
              { key: 'read-only', value: me.data.read_only ? 'yes' : 'no' },
            ]}
          />
        </Card>
      ) : null}
      {me.data?.admin ? <CreateToken onCreated={tokens.reload} /> : null}
      <Card title={me.data?.admin ? 'Every token' : 'Your tokens'}>
        <ErrorBox error={tokens.error} />
        <TokenTable tokens={tokens.data?.tokens ?? []} onRevoked={tokens.reload} />
      </Card>
    </Page>
  );
}

function TokenTable({ tokens, onRevoked }: { tokens: TokenWire[]; onRevoked: () => void }) {
  const [error, setError] = useState<ApiError | undefined>();
  if (tokens.length === 0) return <p class="muted">No tokens.</p>;
  const revoke = async (tokenId: string) => {
    if (!window.confirm(`Revoke token ${tokenId}? Requests with it are refused within a minute.`)) return;
    try {
      await api.post('runway/tokens/revoke', { token_id: tokenId });
      onRevoked();
    } catch (caught) {
      setError(caught instanceof ApiError ? caught : new ApiError(0, 'CONSOLE_ERROR', String(caught)));
    }
  };
  return (
    <>
      <ErrorBox error={error} />
      <table>
        <thead>
          <tr>
            <th>Token id</th>
            <th>User</th>
            <th>Kind</th>
            <th>Created</th>
            <th>Expires</th>
            <th>Description</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {tokens.map((token) => (
            <tr key={token.token_id}>
              <td class="mono">{token.token_id}</td>
              <td>{token.user}</td>
              <td>
                {[token.admin ? 'admin' : 'user', token.read_only ? 'read-only' : '']
                  .filter(Boolean)
                  .join(', ')}
              </td>
              <td>{formatTime(token.created_at)}</td>
              <td>{token.expires_at ? formatTime(token.expires_at) : 'never'}</td>
              <td>{token.description ?? ''}</td>
              <td>
                {token.revoked_at ? (
                  <span class="muted">revoked {formatTime(token.revoked_at)}</span>
                ) : (
                  <button type="button" onClick={() => revoke(token.token_id)}>
                    Revoke
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

function CreateToken({ onCreated }: { onCreated: () => void }) {
  const [user, setUser] = useState('');
  const [admin, setAdmin] = useState(false);
  const [readOnly, setReadOnly] = useState(false);
  const [days, setDays] = useState('30');
  const [description, setDescription] = useState('');
  const [created, setCreated] = useState<string | undefined>();
  const [error, setError] = useState<ApiError | undefined>();
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    try {
      const answer = await api.post<{ token: string }>('runway/tokens/create', {
        user: user.trim(),
        admin,
        read_only: readOnly,
        ...(days.trim() ? { expires_in_seconds: Math.round(Number(days) * 86_400) } : {}),
        ...(description.trim() ? { description: description.trim() } : {}),
      });
      setCreated(answer.token);
      onCreated();
    } catch (caught) {
      setError(caught instanceof ApiError ? caught : new ApiError(0, 'CONSOLE_ERROR', String(caught)));
    }
  };
  return (
    <form class="card" onSubmit={submit}>
      <h2>Create a token</h2>
      <div class="form-grid">
        <label>
          User
          <input value={user} onInput={(e) => setUser(e.currentTarget.value)} required />
        </label>
        <label>
          Expires in days (empty: never)
          <input value={days} inputMode="numeric" onInput={(e) => setDays(e.currentTarget.value)} />
        </label>
        <label>
          Description
          <input value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
        </label>
        <label class="inline">
          <input type="checkbox" checked={admin} onChange={(e) => setAdmin(e.currentTarget.checked)} /> admin
        </label>
        <label class="inline">
          <input type="checkbox" checked={readOnly} onChange={(e) => setReadOnly(e.currentTarget.checked)} />{' '}
          read-only
        </label>
      </div>
      <ErrorBox error={error} />
      {created ? (
        <div class="notice">
          The token, shown once: <code>{created}</code>
        </div>
      ) : null}
      <div class="actions">
        <button type="submit" class="primary">
          Create
        </button>
      </div>
    </form>
  );
}
