/** Error codes of the video, forum, pages and materials features in the reader's language; others as `errorText`. */

import { ApiError } from "../api";
import { HubError } from "../hub/socket";
import { type Key, t, tk } from "../i18n";
import { errorText } from "./errors";

const FEATURE_CODES: Record<string, Key> = {
  session_full: tk("video.error_session_full"),
  participant_removed: tk("video.error_removed"),
  thread_locked: tk("forums.error_locked"),
  post_deleted: tk("forums.error_deleted"),
  embed_unavailable: tk("pages.embed_unavailable"),
  quota_exceeded: tk("materials.error_quota"),
  payload_too_large: tk("materials.error_too_big"),
  unsupported_type: tk("materials.error_type"),
  media_invalid: tk("materials.error_damaged"),
  upload_expired: tk("materials.error_expired"),
};

export function featureErrorText(error: unknown): string {
  const code = error instanceof ApiError || error instanceof HubError ? error.code : "";
  const key = FEATURE_CODES[code];
  return key ? t(key) : errorText(error);
}

/** Runs a person's action, showing its failure (in their language) in the page's alert line. */
export async function attempt(status: HTMLElement, run: () => Promise<unknown>): Promise<void> {
  status.textContent = "";
  try {
    await run();
  } catch (error) {
    status.textContent = featureErrorText(error);
  }
}
