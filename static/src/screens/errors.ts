/** Error codes (docs/PROTOCOL.md) in the reader's language. */

import { ApiError } from "../api";
import { HubError } from "../hub/socket";
import { type Key, t, tk } from "../i18n";

const KNOWN: Record<string, Key> = {
  network: tk("error.network"),
  offline: tk("error.offline"),
  invalid_credentials: tk("error.invalid_credentials"),
  rate_limited: tk("error.rate_limited"),
  forbidden: tk("error.forbidden"),
  read_only: tk("error.read_only"),
  project_closed: tk("error.project_closed"),
  not_found: tk("error.not_found"),
  muted: tk("error.muted"),
  edit_window_passed: tk("error.edit_window_passed"),
  username_taken: tk("error.username_taken"),
  already_member: tk("error.already_member"),
  role_not_allowed: tk("error.role_not_allowed"),
  founder_protected: tk("error.founder_protected"),
  last_admin: tk("error.last_admin"),
  validation_failed: tk("error.validation_failed"),
  conflict: tk("error.conflict"),
  link_expired: tk("error.link_expired"),
};

export function errorText(error: unknown): string {
  const code = error instanceof ApiError || error instanceof HubError ? error.code : "";
  const key = KNOWN[code];
  return key ? t(key) : t("error.generic");
}

/** Runs a user's action; a refusal is shown in `status` (a `role="alert"` line) instead of thrown. */
export async function attempt(status: HTMLElement, run: () => Promise<void>): Promise<void> {
  status.textContent = "";
  try {
    await run();
  } catch (error) {
    status.textContent = errorText(error);
  }
}
