/** The audit log: who did what to whom, newest first, paged backwards, each entry a sentence. */

import { api, type AuditEntry } from "../api";
import { h, replace } from "../dom";
import { formatDateTime, t } from "../i18n";
import { auditSentence } from "./audit_sentences";
import { errorText } from "./errors";

interface Names {
  nameOf(userId: number): string;
}

export async function renderAudit(host: HTMLElement, projectId: number, names: Names): Promise<void> {
  const body = h("tbody");
  const more = h("button", { type: "button", class: "secondary", hidden: true }, t("audit.older"));
  const status = h("p", { role: "status" }, t("common.loading"));
  let before: number | null = null;
  const load = async () => {
    try {
      const page = await api.audit(projectId, before);
      status.textContent = page.entries.length === 0 && before === null ? t("audit.empty") : "";
      body.append(...page.entries.map((entry) => row(entry, names)));
      before = page.next_before;
      more.hidden = before === null;
    } catch (error) {
      status.textContent = errorText(error);
    }
  };
  more.addEventListener("click", () => void load());
  replace(
    host,
    h("h1", {}, t("audit.title")),
    h("p", { class: "hint" }, t("audit.intro")),
    status,
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        {},
        h("caption", { class: "visually-hidden" }, t("audit.title")),
        h("thead", {}, h("tr", {}, ...[t("audit.when"), t("audit.event")].map((label) => h("th", { scope: "col" }, label)))),
        body,
      ),
    ),
    more,
  );
  await load();
}

function row(entry: AuditEntry, names: Names): HTMLElement {
  return h(
    "tr",
    { "data-action": entry.action },
    h("td", {}, h("time", { datetime: entry.created_at }, formatDateTime(entry.created_at))),
    h("td", {}, auditSentence(entry, names)),
  );
}
