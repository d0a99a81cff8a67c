/** Error codes (docs/PROTOCOL.md) in the reader's language. */

import { ApiError } from "../api";
import { HubError } from "../hub/socket";
import { type Key, t, tk } from "../i18n";
import { mutedText } from "./message";

const KNOWN: Record<string, Key> = {
  network: tk("error.network"),
  offline: tk("error.offline"),
  invalid_credentials: tk("error.invalid_credentials"),
  password_change_required: tk("error.password_change_required"),
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
  if ((error instanceof ApiError || error instanceof HubError) && code === "muted" && error.retryAfter !== null) {
    return mutedText(new Date(Date.now() + error.retryAfter * 1000));
  }
  if (error instanceof ApiError && code === "rate_limited" && error.retryAfter !== null) {
    // Say how long: a pupil told "wait a little" tries again at once and waits longer.
    return t("error.rate_limited_minutes", { minutes: Math.ceil(error.retryAfter / 60) });
  }
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
