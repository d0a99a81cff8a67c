/** The audit log: who did what to whom, newest first, paged backwards. */

import { api, type AuditEntry } from "../api";
import { h, replace } from "../dom";
import { type Key, formatDateTime, t, tk } from "../i18n";
import { errorText } from "./errors";

const ACTIONS: Record<string, Key> = {
  "project.create": tk("audit.project.create"),
  "project.update": tk("audit.project.update"),
  "member.invite": tk("audit.member.invite"),
  "member.role": tk("audit.member.role"),
  "member.remove": tk("audit.member.remove"),
  "pupil.create": tk("audit.pupil.create"),
  "pupil.reset_password": tk("audit.pupil.reset_password"),
  "chat.mute": tk("audit.chat.mute"),
  "chat.report": tk("audit.chat.report"),
  "chat.delete": tk("audit.chat.delete"),
  "chat.channel.create": tk("audit.chat.channel.create"),
};

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
        h("thead", {}, h("tr", {}, ...[t("audit.when"), t("audit.who"), t("audit.what"), t("audit.whom"), t("audit.details")].map((label) => h("th", { scope: "col" }, label)))),
        body,
      ),
    ),
    more,
  );
  await load();
}

function row(entry: AuditEntry, names: Names): HTMLElement {
  const key = ACTIONS[entry.action];
  return h(
    "tr",
    {},
    h("td", {}, h("time", { datetime: entry.created_at }, formatDateTime(entry.created_at))),
    h("td", {}, names.nameOf(entry.actor_id)),
    h("td", {}, key ? t(key) : entry.action),
    h("td", {}, entry.target_user_id === null ? "" : names.nameOf(entry.target_user_id)),
    h(
      "td",
      { class: "details" },
      Object.entries(entry.details)
        .map(([name, value]) => `${name}: ${typeof value === "string" ? value : JSON.stringify(value)}`)
        .join(", "),
    ),
  );
}
