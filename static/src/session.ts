/** The signed-in account. The token lives in sessionStorage only: closing the tab signs out. */

export interface User {
  id: number;
  username: string;
  display_name: string;
  kind: "teacher" | "pupil";
  country: string | null;
  must_change_password: boolean;
}

interface Stored {
  token: string;
  expires_at: string;
  user: User;
}

const KEY = "twinspace.session";

export function currentSession(): Stored | null {
  const raw = sessionStorage.getItem(KEY);
  if (!raw) return null;
  const stored = JSON.parse(raw) as Stored;
  if (Date.parse(stored.expires_at) <= Date.now()) {
    sessionStorage.removeItem(KEY);
    return null;
  }
  return stored;
}

export function saveSession(stored: Stored): void {
  sessionStorage.setItem(KEY, JSON.stringify(stored));
}

export function signOut(): void {
  sessionStorage.removeItem(KEY);
}
