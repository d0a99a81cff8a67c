/**
 * "My data", for teachers (issue 19): download everything the server holds about my account,
 * or erase it from every project. Pupils have no such screen: their teacher administrator
 * answers for them (screens/privacy.ts), since pupils have no e-mail and are minors.
 */

import { api } from "../api";
import { h, replace } from "../dom";
import { language, t } from "../i18n";
import { ask } from "./dialog";
import { errorText } from "./errors";
import { finished, offerDownload } from "./privacy";

/** `erased` runs once the erasure job is accepted: the server has ended my tokens already. */
export function renderAccount(main: HTMLElement, erased: () => void): void {
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
  replace(
    main,
    h(
      "section",
      { class: "card account-data" },
      h("h1", {}, t("account.title")),
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
    ),
  );
}
