/**
 * The signed-in Runway token, kept in `sessionStorage` only: it lives as long as the browser tab's
 * session and is never written anywhere that outlasts it (no localStorage, no cookie).
 */
const KEY = 'runway.token';

export function readToken(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function saveToken(token: string): void {
  sessionStorage.setItem(KEY, token);
}

export function clearToken(): void {
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    // Storage unavailable: nothing was kept.
  }
}
