/**
 * Version history for teachers (`doc.manage`): save a named version, view one with the
 * editor's schema, restore it. A restore is a forward update made by the server, so every
 * open editor converges to it through its socket.
 */

import { DOMSerializer } from "prosemirror-model";
import { yXmlFragmentToProseMirrorRootNode } from "y-prosemirror";
import * as Y from "yjs";
import { h, replace, uid } from "../dom";
import { formatDateTime, t } from "../i18n";
import { ask } from "../screens/dialog";
import { attempt } from "../screens/errors";
import { type Version, docsApi } from "./api";
import { schema } from "./schema";

export class VersionsPanel {
  readonly element = h("section", { class: "versions card" });
  private readonly list = h("ol", { class: "version-list" });
  private readonly preview = h("div", { class: "version-preview" });
  private readonly status = h("p", { class: "form-error", role: "alert" });
  private readonly note = h("p", { class: "hint", role: "status" });
  private versions: Version[] = [];

  constructor(
    private readonly projectId: number,
    private readonly docId: number,
    private readonly nameOf: (userId: number) => string,
  ) {
    const titleId = uid("versions");
    const fieldId = uid("version-name");
    const field = h("input", { id: fieldId, name: "version", required: true, maxlength: 100, autocomplete: "off" });
    const form = h(
      "form",
      {
        class: "inline-form",
        onsubmit: (event: Event) => {
          event.preventDefault();
          const name = field.value.trim();
          if (!name) return;
          void this.attempt(async () => {
            await docsApi.saveVersion(this.projectId, this.docId, name);
            field.value = "";
            this.note.textContent = t("docs.version_saved", { name });
            await this.load();
          });
        },
      },
      h("label", { for: fieldId }, t("docs.version_name")),
      field,
      h("button", { type: "submit" }, t("docs.save_version")),
    );
    this.element.setAttribute("aria-labelledby", titleId);
    replace(this.element, h("h2", { id: titleId }, t("docs.history")), form, this.status, this.note, this.list, this.preview);
    void this.attempt(() => this.load());
  }

  async load(): Promise<void> {
    this.versions = (await docsApi.versions(this.projectId, this.docId)).versions;
    replace(
      this.list,
      ...(this.versions.length === 0 ? [h("li", { class: "hint" }, t("docs.no_versions"))] : this.versions.map((v) => this.item(v))),
    );
  }

  private item(version: Version): HTMLElement {
    const label = version.auto ? t("docs.auto_version") : version.name;
    const by = version.created_by === null ? "" : ` · ${this.nameOf(version.created_by)}`;
    return h(
      "li",
      { class: "version" },
      h("span", {}, h("strong", { dir: "auto" }, label), h("span", { class: "meta" }, " ", h("time", { datetime: version.created_at }, formatDateTime(version.created_at)), by)),
      h("button", { type: "button", class: "secondary", "aria-label": t("docs.view_version_named", { name: label }), onclick: () => void this.attempt(() => this.show(version, label)) }, t("docs.view_version")),
    );
  }

  private async show(version: Version, label: string): Promise<void> {
    const state = await docsApi.versionState(this.projectId, this.docId, version.id);
    const ydoc = new Y.Doc();
    Y.applyUpdate(ydoc, state);
    const root = yXmlFragmentToProseMirrorRootNode(ydoc.getXmlFragment("content"), schema);
    ydoc.destroy();
    const titleId = uid("preview");
    const body = h("div", { class: "doc-body preview-body", dir: "auto" });
    body.append(DOMSerializer.fromSchema(schema).serializeFragment(root.content));
    replace(
      this.preview,
      h("h3", { id: titleId, tabindex: "-1" }, t("docs.version_preview", { name: label })),
      body,
      h(
        "div",
        { class: "row-actions" },
        h("button", { type: "button", onclick: () => void this.attempt(() => this.restore(version, label)) }, t("docs.restore")),
        h("button", { type: "button", class: "secondary", onclick: () => replace(this.preview) }, t("docs.close_preview")),
      ),
    );
    this.preview.setAttribute("aria-labelledby", titleId);
    (document.getElementById(titleId) as HTMLElement).focus();
  }

  private async restore(version: Version, label: string): Promise<void> {
    const ok = await ask({ title: t("docs.restore_confirm", { name: label }), confirm: t("docs.restore") });
    if (ok === null) return;
    await docsApi.restore(this.projectId, this.docId, version.id);
    replace(this.preview);
    this.note.textContent = t("docs.restored", { name: label });
    await this.load();
  }

  private attempt(run: () => Promise<void>): Promise<void> {
    return attempt(this.status, run);
  }
}
