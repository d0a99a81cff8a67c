/**
 * Privacy for teacher administrators (docs/PRIVACY.md): a member's export or erasure (a
 * parent's access or erasure request), the project's erasure mode and retention periods, and
 * what the next retention run would remove.
 */

import { api, send, type DueItem, type MemberInfo, type PrivacyJob, type Project } from "../api";
import { h, replace, uid } from "../dom";
import { formatDateTime, language, t } from "../i18n";
import { ask } from "./dialog";
import { loginTable } from "./logins";

type Attempt = (run: () => Promise<void>) => Promise<void>;

const POLL_MS = 1000;

/** The export and erase buttons of one member's row; progress and the download go to `notice`. */
export function memberPrivacyActions(
  project: Project,
  member: MemberInfo,
  attempt: Attempt,
  notice: HTMLElement,
  refresh: () => Promise<void>,
): HTMLElement[] {
  if (!project.permissions.includes("privacy.manage")) return [];
  const exportButton = h(
    "button",
    {
      type: "button",
      class: "secondary",
      "aria-label": t("privacy.export_of", { name: member.display_name }),
      onclick: () =>
        attempt(async () => {
          replace(notice, h("p", {}, t("privacy.export_working", { name: member.display_name })));
          const job = await finished(await api.exportMember(project.id, member.user_id, language()));
          offerDownload(notice, job, t("privacy.export_ready", { name: member.display_name }));
        }),
    },
    t("privacy.export"),
  );
  const eraseButton = member.is_founder
    ? null
    : h(
        "button",
        {
          type: "button",
          class: "danger",
          "aria-label": t("privacy.erase_of", { name: member.display_name }),
          onclick: () =>
            attempt(async () => {
              const title = t("privacy.erase_confirm", { name: member.display_name });
              const sure = await ask({ title, confirm: t("privacy.erase"), danger: true });
              if (sure === null) return;
              await api.eraseMember(project.id, member.user_id);
              replace(notice, h("p", {}, t("privacy.erase_started", { name: member.display_name })));
              await refresh();
            }),
        },
        t("privacy.erase"),
      );
  // A pupil's sign-ins, for a teacher administrator helping one who cannot get in (or a
  // parent's question); a teacher's are theirs alone.
  const loginsButton =
    member.kind === "pupil"
      ? h(
          "button",
          {
            type: "button",
            class: "secondary",
            "aria-label": t("logins.of", { name: member.display_name }),
            onclick: () =>
              attempt(async () => {
                const history = await api.pupilLogins(project.id, member.user_id);
                replace(notice, loginTable(history, t("logins.of", { name: member.display_name }), false));
              }),
          },
          t("logins.title"),
        )
      : null;
  return [exportButton, loginsButton, eraseButton].filter((b): b is HTMLButtonElement => b !== null);
}

/** The job once done: exports are built in the background, a little at a time. */
export async function finished(job: PrivacyJob): Promise<PrivacyJob> {
  let current = job;
  while (current.state === "pending" || current.state === "running") {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    current = await api.privacyJob(job.id);
  }
  return current;
}

/** `ready` says whose export it is; the button fetches the ZIP with the requester's token. */
export function offerDownload(notice: HTMLElement, job: PrivacyJob, ready: string): void {
  const link = job.download;
  if (link === null) return;
  replace(
    notice,
    h("p", {}, ready),
    h(
      "button",
      {
        type: "button",
        onclick: async () => {
          // The link also needs our token, so it is fetched here rather than opened.
          const response = await send("GET", link);
          const url = URL.createObjectURL(await response.blob());
          const anchor = h("a", { href: url, download: `twinspace-${job.id}.zip` });
          anchor.click();
          setTimeout(() => URL.revokeObjectURL(url), 60_000);
        },
      },
      t("privacy.download"),
    ),
  );
}

/** The first of what the next run removes (the server sends at most 50), oldest first. */
function dueList(title: string, due: DueItem[]): HTMLElement | null {
  if (due.length === 0) return null;
  return h(
    "div",
    { class: "due-list" },
    h("h3", {}, title),
    h(
      "ul",
      {},
      ...due.map((item) => h("li", {}, h("bdi", {}, item.label), " — ", formatDateTime(item.created_at))),
    ),
  );
}

/** The project's erasure mode and retention periods, and the dry run of the next removal. */
export async function privacySection(project: Project, attempt: Attempt): Promise<HTMLElement | null> {
  if (!project.permissions.includes("privacy.manage")) return null;
  const current = await api.privacy(project.id);
  const result = h("div", { "aria-live": "polite" });
  const modeId = uid("erase-mode");
  const mode = h(
    "select",
    { id: modeId },
    h("option", { value: "blank", selected: current.erase_mode === "blank" }, t("privacy.mode_blank")),
    h("option", { value: "delete", selected: current.erase_mode === "delete" }, t("privacy.mode_delete")),
  );
  const number = (label: string, value: number, max: number): [HTMLLabelElement, HTMLInputElement] => {
    const id = uid("retention");
    const input = h("input", { id, type: "number", min: 1, max, required: true, value: String(value) });
    return [h("label", { for: id }, label), input];
  };
  const [chatLabel, chat] = number(t("privacy.chat_days"), current.chat_days, 1200);
  const [materialsLabel, materials] = number(t("privacy.materials_days"), current.materials_days, 3650);
  const [journalLabel, journal] = number(t("privacy.journal_days"), current.journal_days, 3650);
  const [closedLabel, closed] = number(t("privacy.closed_months"), current.closed_months, 120);
  const [auditLabel, audit] = number(t("privacy.audit_years"), current.audit_years, 30);
  const preview = h(
    "button",
    {
      type: "button",
      class: "secondary",
      onclick: () =>
        attempt(async () => {
          const next = await api.retentionPreview(project.id);
          const counts = {
            chat: next.removed.chat_messages,
            materials: next.removed.materials,
            journal: next.removed.journal_posts,
            audit: next.removed.audit_log,
          };
          replace(
            result,
            h(
              "p",
              {},
              t("privacy.preview_result", counts),
              next.project_deleted ? ` ${t("privacy.preview_project")}` : "",
            ),
            dueList(t("privacy.preview_materials"), next.listed.materials),
            dueList(t("privacy.preview_journal"), next.listed.journal_posts),
          );
        }),
    },
    t("privacy.preview"),
  );
  return h(
    "form",
    {
      class: "card",
      onsubmit: (event: Event) => {
        event.preventDefault();
        void attempt(async () => {
          await api.setPrivacy(project.id, {
            erase_mode: mode.value as "blank" | "delete",
            chat_days: Number(chat.value),
            materials_days: Number(materials.value),
            journal_days: Number(journal.value),
            closed_months: Number(closed.value),
            audit_years: Number(audit.value),
          });
          replace(result, t("privacy.saved"));
        });
      },
    },
    h("h2", {}, t("privacy.title")),
    h("label", { for: modeId }, t("privacy.erase_mode")),
    mode,
    chatLabel,
    chat,
    materialsLabel,
    materials,
    journalLabel,
    journal,
    closedLabel,
    closed,
    auditLabel,
    audit,
    h("div", { class: "row-actions" }, h("button", { type: "submit" }, t("privacy.save")), preview),
    result,
  );
}
