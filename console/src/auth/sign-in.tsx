import { useState } from 'preact/hooks';
import { ApiError, api, signInNeeded } from '../api/client.ts';
import type { WhoAmIWire } from '../api/wire.ts';
import { ErrorBox } from '../ui/common.tsx';
import { clearToken, saveToken } from './token-store.ts';

/**
 * Sign-in with a Runway token (`runway tokens create`): kept in sessionStorage for this browser
 * session only. The token is checked by asking the API who it belongs to.
 */
export function SignIn() {
  const [token, setToken] = useState('');
  const [error, setError] = useState<ApiError | undefined>();
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    saveToken(token.trim());
    try {
      await api.get<WhoAmIWire>('runway/whoami');
      signInNeeded.value = false;
    } catch (caught) {
      clearToken();
      signInNeeded.value = true;
      setError(caught instanceof ApiError ? caught : new ApiError(0, 'CONSOLE_ERROR', String(caught)));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="sign-in">
      <form onSubmit={submit} class="card">
        <h1>
          <span class="logo">▲</span> Runway
        </h1>
        <p>Sign in with a Runway token. It is kept for this browser session only.</p>
        <label>
          Token
          <input
            type="password"
            name="token"
            autocomplete="off"
            placeholder="rwy_…"
            value={token}
            onInput={(event) => setToken(event.currentTarget.value)}
            required
          />
        </label>
        <ErrorBox error={error} />
        <button type="submit" class="primary" disabled={busy || token.trim() === ''}>
          Sign in
        </button>
        <p class="muted small">
          An admin creates tokens with <code>runway tokens create --user NAME</code> or on the Access page.
        </p>
      </form>
    </main>
  );
}
