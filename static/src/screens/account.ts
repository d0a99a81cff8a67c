/**
 * "My data" (issue 19): my login history, for every account; for teachers also the download
 * of everything the server holds about my account, and its erasure from every project. A
 * pupil's export and erasure are their teacher administrator's (screens/privacy.ts), since
 * pupils have no e-mail and are minors.
 */

import { api } from "../api";
import { h, replace } from "../dom";
import { language, t } from "../i18n";
import type { User } from "../session";
import { ask } from "./dialog";
import { errorText } from "./errors";
import { loginTable } from "./logins";
import { finished, offerDownload } from "./privacy";

/** `erased` runs once the erasure job is accepted: the server has ended my tokens already. */
export function renderAccount(main: HTMLElement, user: User, erased: () => void): void {
  const logins = h("div", { "aria-live": "polite" }, h("p", {}, t("logins.loading")));
  const section = h("section", { class: "card account-data" }, h("h1", {}, t("account.title")));
  replace(main, section);
  void api.myLogins().then(
    (history) => replace(logins, loginTable(history, t("logins.title"), true)),
    (error: unknown) => replace(logins, h("p", { class: "form-error", role: "alert" }, errorText(error))),
  );
  const history = [h("h2", {}, t("logins.title")), logins];
  if (user.kind !== "teacher") {
    section.append(...history);
    return;
  }
  const notice = h("div", { class: "notice", role: "status" });
  const status = h("p", { class: "form-error", role: "alert" });
  const attempt = async (run: () => Promise<void>) => {
    status.textContent = "";
    try {
      await run();
    } catch (error) {
      status.textContent = errorText(error);
    }
  };
  section.append(
      h("h2", {}, t("account.export_title")),
      h("p", { class: "hint" }, t("account.export_intro")),
      h(
        "button",
        {
          type: "button",
          class: "export-account",
          onclick: () =>
            attempt(async () => {
              replace(notice, h("p", {}, t("account.export_working")));
              const job = await finished(await api.exportAccount(language()));
              offerDownload(notice, job, t("account.export_ready"));
            }),
        },
        t("account.export"),
      ),
      notice,
      h("h2", {}, t("account.erase_title")),
      h("p", { class: "hint" }, t("account.erase_intro")),
      h(
        "button",
        {
          type: "button",
          class: "danger erase-account",
          onclick: () =>
            attempt(async () => {
              const sure = await ask({ title: t("account.erase_confirm"), confirm: t("account.erase"), danger: true });
              if (sure === null) return;
              await api.eraseAccount();
              erased();
            }),
        },
        t("account.erase"),
      ),
      status,
      ...history,
  );
}
