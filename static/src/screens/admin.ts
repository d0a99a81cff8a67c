/**
 * Teacher admin: the project's status, members and their roles, inviting teachers, pupil
 * accounts in bulk with a printable sheet of one-time passwords, password resets, and a
 * member's export or erasure with the project's retention settings (`privacy.ts`).
 */

import { api, type MemberInfo, type Project, type PupilLogin, type Role } from "../api";
import { h, replace, uid } from "../dom";
import { t } from "../i18n";
import { ask } from "./dialog";
import { errorText } from "./errors";
import { PUPIL_ROLES, TEACHER_ROLES, roleName, statusName } from "./names";
import { memberPrivacyActions, privacySection } from "./privacy";

interface Room {
  readonly members: Map<number, MemberInfo>;
  loadMembers(): Promise<void>;
}

export async function renderAdmin(
  host: HTMLElement,
  project: Project,
  room: Room,
  changed: (project: Project) => void,
): Promise<void> {
  const can = (action: string) => project.permissions.includes(action);
  const status = h("p", { class: "form-error", role: "alert" });
  const sheet = h("section", { class: "sheet", "aria-live": "polite" });
  const membersBox = h("div", { class: "table-wrap" });
  const notice = h("div", { class: "privacy-notice", "aria-live": "polite" });
  const attempt = async (run: () => Promise<void>) => {
    status.textContent = "";
    try {
      await run();
    } catch (error) {
      status.textContent = errorText(error);
    }
  };
  const showSheet = (logins: PupilLogin[]) => renderSheet(sheet, project, logins);
  const refresh = async () => {
    await room.loadMembers();
    renderMembers(membersBox, project, room, attempt, showSheet, refresh, notice);
  };
  const privacy = await privacySection(project, attempt).catch(() => null);
  replace(
    host,
    h("h1", {}, t("admin.title")),
    status,
    can("project.manage") ? projectSection(project, attempt, changed) : null,
    h("section", { class: "card" }, h("h2", {}, t("admin.members")), notice, membersBox, can("members.manage") ? inviteForm(project, attempt, refresh) : null),
    can("pupils.create") ? pupilsForm(project, attempt, showSheet, refresh) : null,
    sheet,
    privacy,
  );
  await attempt(refresh);
}

type Attempt = (run: () => Promise<void>) => Promise<void>;

function roleOptions(roles: readonly string[], selected: string): HTMLOptionElement[] {
  return roles.map((r) => h("option", { value: r, selected: r === selected }, roleName(r)));
}

function projectSection(project: Project, attempt: Attempt, changed: (project: Project) => void): HTMLElement {
  const archived = project.status === "archived";
  return h(
    "section",
    { class: "card" },
    h("h2", {}, t("admin.project")),
    h("p", {}, t("admin.status_is", { status: statusName(project.status) })),
    h("p", { class: "hint" }, archived ? t("admin.reopen_hint") : t("admin.archive_hint")),
    h(
      "button",
      {
        type: "button",
        class: archived ? "" : "danger",
        onclick: () =>
          attempt(async () => {
            const next = archived ? "active" : "archived";
            const sure = await ask({ title: archived ? t("admin.reopen_confirm") : t("admin.archive_confirm"), confirm: archived ? t("admin.reopen") : t("admin.archive"), danger: !archived });
            if (sure === null) return;
            changed(await api.setStatus(project.id, next));
          }),
      },
      archived ? t("admin.reopen") : t("admin.archive"),
    ),
  );
}

function renderMembers(box: HTMLElement, project: Project, room: Room, attempt: Attempt, showSheet: (l: PupilLogin[]) => void, refresh: () => Promise<void>, notice: HTMLElement): void {
  const can = (action: string) => project.permissions.includes(action);
  const members = [...room.members.values()].sort((a, b) => (a.kind === b.kind ? a.display_name.localeCompare(b.display_name) : a.kind === "teacher" ? -1 : 1));
  const rows = members.map((member) => {
    const roles = member.kind === "pupil" ? PUPIL_ROLES : TEACHER_ROLES;
    const selectId = uid("role");
    const role = can("members.manage") && !member.is_founder
      ? h(
          "select",
          {
            id: selectId,
            "aria-label": t("admin.role_of", { name: member.display_name }),
            onchange: (event: Event) =>
              attempt(async () => {
                await api.setRole(project.id, member.user_id, (event.target as HTMLSelectElement).value as Role);
                await refresh();
              }),
          },
          ...roleOptions(roles, member.role),
        )
      : h("span", {}, roleName(member.role), member.is_founder ? ` (${t("admin.founder")})` : "");
    const reset = member.kind === "pupil" && can("pupils.create")
      ? h("button", {
          type: "button",
          class: "secondary",
          onclick: () =>
            attempt(async () => {
              const sure = await ask({ title: t("admin.reset_confirm", { name: member.display_name }), confirm: t("admin.reset") });
              if (sure !== null) showSheet([await api.resetPassword(project.id, member.user_id)]);
            }),
        }, t("admin.reset"))
      : null;
    const unlock = member.kind === "pupil" && can("pupils.create")
      ? h("button", {
          type: "button",
          class: "secondary",
          "aria-live": "polite",
          onclick: (event: Event) =>
            attempt(async () => {
              await api.unlock(project.id, member.user_id);
              (event.target as HTMLButtonElement).textContent = t("admin.unlocked", { name: member.display_name });
            }),
        }, t("admin.unlock"))
      : null;
    const remove = can("members.manage") && !member.is_founder
      ? h("button", {
          type: "button",
          class: "danger",
          onclick: () =>
            attempt(async () => {
              const sure = await ask({ title: t("admin.remove_confirm", { name: member.display_name }), confirm: t("admin.remove"), danger: true });
              if (sure === null) return;
              await api.remove(project.id, member.user_id);
              await refresh();
            }),
        }, t("admin.remove"))
      : null;
    return h(
      "tr",
      {},
      h("th", { scope: "row" }, member.display_name),
      h("td", {}, member.username),
      h("td", {}, role),
      h(
        "td",
        {},
        h(
          "div",
          { class: "row-actions" },
          reset,
          unlock,
          remove,
          ...memberPrivacyActions(project, member, attempt, notice, refresh),
        ),
      ),
    );
  });
  replace(
    box,
    h(
      "table",
      { class: "members-table" },
      h("caption", { class: "visually-hidden" }, t("admin.members")),
      h("thead", {}, h("tr", {}, ...[t("admin.name"), t("admin.username"), t("admin.role"), t("admin.actions")].map((label) => h("th", { scope: "col" }, label)))),
      h("tbody", {}, ...rows),
    ),
  );
}

function inviteForm(project: Project, attempt: Attempt, refresh: () => Promise<void>): HTMLElement {
  const userId = uid("invite-user");
  const roleId = uid("invite-role");
  const username = h("input", { id: userId, required: true, autocomplete: "off" });
  const role = h("select", { id: roleId }, ...roleOptions(TEACHER_ROLES, "teacher"));
  return h(
    "form",
    {
      class: "inline-form",
      onsubmit: (event: Event) => {
        event.preventDefault();
        void attempt(async () => {
          await api.invite(project.id, username.value.trim(), role.value as Role);
          username.value = "";
          await refresh();
        });
      },
    },
    h("h3", {}, t("admin.invite")),
    h("label", { for: userId }, t("admin.invite_username")),
    username,
    h("label", { for: roleId }, t("admin.role")),
    role,
    h("button", { type: "submit" }, t("admin.invite_submit")),
  );
}

function pupilsForm(project: Project, attempt: Attempt, showSheet: (l: PupilLogin[]) => void, refresh: () => Promise<void>): HTMLElement {
  const namesId = uid("pupil-names");
  const roleId = uid("pupil-role");
  const names = h("textarea", { id: namesId, rows: 6, required: true, "aria-describedby": `${namesId}-hint` });
  const role = h("select", { id: roleId }, ...roleOptions(PUPIL_ROLES, "pupil"));
  return h(
    "form",
    {
      class: "card",
      onsubmit: (event: Event) => {
        event.preventDefault();
        const list = names.value.split("\n").map((line) => line.trim()).filter(Boolean);
        if (list.length === 0) return;
        void attempt(async () => {
          const { pupils } = await api.createPupils(project.id, list, role.value as Role);
          names.value = "";
          showSheet(pupils);
          await refresh();
        });
      },
    },
    h("h2", {}, t("admin.pupils")),
    h("label", { for: namesId }, t("admin.pupil_names")),
    h("p", { class: "hint", id: `${namesId}-hint` }, t("admin.pupil_names_hint")),
    names,
    h("label", { for: roleId }, t("admin.role")),
    role,
    h("button", { type: "submit" }, t("admin.create_pupils")),
  );
}

/** One card per pupil, to cut out and hand over; only the sheet is printed. */
function renderSheet(sheet: HTMLElement, project: Project, logins: PupilLogin[]): void {
  replace(
    sheet,
    h("h2", {}, t("sheet.title")),
    h("p", { class: "hint no-print" }, t("sheet.once")),
    h("button", { type: "button", class: "no-print", onclick: () => window.print() }, t("sheet.print")),
    h(
      "ul",
      { class: "cards" },
      ...logins.map((login) =>
        h(
          "li",
          { class: "login-card" },
          h("p", { class: "card-project" }, project.name),
          h("p", { class: "card-name" }, login.display_name),
          h("dl", {}, h("dt", {}, t("sheet.address")), h("dd", {}, location.origin), h("dt", {}, t("login.username")), h("dd", { class: "mono" }, login.username), h("dt", {}, t("login.password")), h("dd", { class: "mono" }, login.password)),
        ),
      ),
    ),
  );
  sheet.scrollIntoView({ block: "start" });
}
