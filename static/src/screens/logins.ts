/**
 * Login history (issue 19, docs/PRIVACY.md "Login history"): when an account was signed in to,
 * or tried, from which address and which kind of browser. A member reads their own on the
 * account page; a teacher administrator reads a pupil's from the member list.
 */

import type { LoginHistory } from "../api";
import { h } from "../dom";
import { formatDateTime, t, tk, type Key } from "../i18n";

const OUTCOMES: Record<string, Key> = {
  ok: tk("logins.ok"),
  failed: tk("logins.failed"),
  throttled: tk("logins.throttled"),
};

/** The table of sign-ins under `caption`, or a line saying there are none. `own`: the reader's
 * own account, told how long entries are kept and what to do about one that was not them. */
export function loginTable(history: LoginHistory, caption: string, own: boolean): HTMLElement {
  const intro = own ? h("p", { class: "hint" }, t("logins.kept", { days: history.kept_days })) : null;
  if (history.logins.length === 0) return h("div", { class: "logins" }, intro, h("p", {}, t("logins.none")));
  const headers = [t("logins.when"), t("logins.result"), t("logins.address"), t("logins.client")];
  return h(
    "div",
    // Scrolls sideways on a narrow phone: focusable, so the keyboard can scroll it too.
    { class: "logins table-wrap", tabindex: 0, role: "region", "aria-label": caption },
    intro,
    h(
      "table",
      {},
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, ...headers.map((label) => h("th", { scope: "col" }, label)))),
      h(
        "tbody",
        {},
        ...history.logins.map((entry) =>
          h(
            "tr",
            { class: entry.outcome === "ok" ? "" : "login-refused" },
            h("td", {}, formatDateTime(entry.at)),
            h("td", {}, t(OUTCOMES[entry.outcome] ?? "logins.failed")),
            h("td", { dir: "ltr" }, entry.address),
            h("td", { dir: "ltr" }, entry.client || t("logins.unknown_client")),
          ),
        ),
      ),
    ),
  );
}
