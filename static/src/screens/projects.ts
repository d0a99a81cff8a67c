/** My projects: every room I belong to, and founding a new one (teachers). */

import { api, type Project } from "../api";
import { h, replace, uid } from "../dom";
import { formatDateTime, t } from "../i18n";
import type { User } from "../session";
import { errorText } from "./errors";
import { roleName, statusName } from "./names";

export async function renderProjects(main: HTMLElement, user: User): Promise<void> {
  const heading = h("h1", {}, t("projects.title"));
  const list = h("ul", { class: "project-list" });
  const status = h("p", { role: "status" }, t("common.loading"));
  replace(main, heading, status, list, user.kind === "teacher" ? createForm() : null);
  try {
    const { projects } = await api.projects();
    status.textContent = projects.length === 0 ? t("projects.empty") : "";
    replace(list, ...projects.map(projectCard));
  } catch (error) {
    status.textContent = errorText(error);
  }
}

function projectCard(project: Project): HTMLElement {
  return h(
    "li",
    { class: "card project" },
    h("h2", {}, h("a", { href: `#/p/${project.id}` }, project.name)),
    project.description ? h("p", {}, project.description) : null,
    h(
      "p",
      { class: "meta" },
      t("projects.role", { role: roleName(project.role) }),
      " · ",
      t("projects.since", { date: formatDateTime(project.created_at) }),
      project.status !== "active" ? h("span", { class: "badge status" }, statusName(project.status)) : null,
    ),
  );
}

function createForm(): HTMLElement {
  const nameId = uid("project-name");
  const name = h("input", { id: nameId, required: true, maxlength: 120 });
  const status = h("p", { class: "form-error", role: "alert" });
  return h(
    "form",
    {
      class: "card inline-form",
      onsubmit: async (event: Event) => {
        event.preventDefault();
        try {
          const project = await api.createProject(name.value.trim());
          location.hash = `#/p/${project.id}`;
        } catch (error) {
          status.textContent = errorText(error);
        }
      },
    },
    h("h2", {}, t("projects.new")),
    h("label", { for: nameId }, t("projects.new_name")),
    name,
    h("button", { type: "submit" }, t("projects.create")),
    status,
  );
}
