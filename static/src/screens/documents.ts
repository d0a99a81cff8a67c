/**
 * The Documents screen: the project's documents (created, renamed and deleted by `doc.manage`),
 * and one open document: toolbar, live editor, who is in it, the link indicator, and for
 * teachers the version history. Read-only for observers and in archived rooms.
 */

import "../docs/docs.css";
import { h, replace, uid } from "../dom";
import { type DocInfo, docsApi, nameFor } from "../docs/api";
import type { DocEditor } from "../docs/editor";
import type { RoomClient } from "../hub/room_client";
import { formatDateTime, t } from "../i18n";
import type { User } from "../session";
import { ask } from "./dialog";
import { attempt } from "./errors";

interface Names {
  nameOf(userId: number): string;
}

export class DocumentsView {
  private editor: DocEditor | null = null;
  private readonly status = h("p", { class: "form-error", role: "alert" });
  private readonly unsubscribe: () => void;
  private refreshOpen: () => void = () => undefined;

  constructor(
    private readonly host: HTMLElement,
    private readonly client: RoomClient,
    private readonly token: string,
    private readonly user: User,
    private readonly names: Names,
    docId: number | null,
  ) {
    this.unsubscribe = client.on((event) => {
      if (event.kind === "permissions") this.refreshOpen();
    });
    replace(host, h("p", { role: "status" }, t("common.loading")));
    void this.attempt(() => (docId === null ? this.showList() : this.open(docId)));
  }

  detach(): void {
    this.unsubscribe();
    this.editor?.destroy();
    this.editor = null;
  }

  private get projectId(): number {
    return this.client.projectId;
  }

  private get writable(): boolean {
    return this.client.can("doc.edit") && this.client.status === "active";
  }

  private get manager(): boolean {
    return this.client.can("doc.manage") && this.client.status === "active";
  }

  private async showList(): Promise<void> {
    this.client.setLocation({ kind: "home" });
    const { documents } = await docsApi.list(this.projectId);
    const items = documents.map((doc) => this.listItem(doc));
    replace(
      this.host,
      h("h1", {}, t("docs.title")),
      this.manager ? this.createForm() : null,
      this.status,
      items.length === 0 ? h("p", { class: "empty" }, t("docs.empty")) : h("ul", { class: "doc-list", "aria-label": t("docs.title") }, ...items),
    );
    this.refreshOpen = () => void this.attempt(() => this.showList());
  }

  private listItem(doc: DocInfo): HTMLElement {
    const edited = doc.last_edited_at ?? doc.created_at;
    return h(
      "li",
      { class: "doc-item" },
      h(
        "div",
        {},
        h("a", { href: `#/p/${this.projectId}/documents/${doc.id}` }, h("bdi", {}, doc.title)),
        h("p", { class: "meta" }, t("docs.changed", { date: formatDateTime(edited) })),
      ),
      this.manager
        ? h(
            "div",
            { class: "row-actions" },
            h("button", { type: "button", class: "secondary", "aria-label": t("docs.rename_named", { title: doc.title }), onclick: () => void this.attempt(() => this.rename(doc)) }, t("docs.rename")),
            h("button", { type: "button", class: "danger", "aria-label": t("docs.delete_named", { title: doc.title }), onclick: () => void this.attempt(() => this.remove(doc)) }, t("docs.delete")),
          )
        : null,
    );
  }

  private createForm(): HTMLElement {
    const fieldId = uid("doc-title");
    const field = h("input", { id: fieldId, name: "title", required: true, maxlength: 100, autocomplete: "off", dir: "auto" });
    return h(
      "form",
      {
        class: "inline-form card",
        onsubmit: (event: Event) => {
          event.preventDefault();
          const title = field.value.trim();
          if (!title) return;
          void this.attempt(async () => {
            const doc = await docsApi.create(this.projectId, nameFor(title), title);
            location.hash = `#/p/${this.projectId}/documents/${doc.id}`;
          });
        },
      },
      h("label", { for: fieldId }, t("docs.new_title")),
      field,
      h("button", { type: "submit" }, t("docs.create")),
    );
  }

  private async rename(doc: DocInfo): Promise<void> {
    const title = await ask({ title: t("docs.rename_title"), label: t("docs.new_title_label"), value: doc.title, confirm: t("common.save") });
    if (!title) return;
    await docsApi.rename(this.projectId, doc.id, title.slice(0, 100));
    await this.showList();
  }

  private async remove(doc: DocInfo): Promise<void> {
    const ok = await ask({ title: t("docs.delete_confirm", { title: doc.title }), confirm: t("docs.delete"), danger: true });
    if (ok === null) return;
    await docsApi.remove(this.projectId, doc.id);
    await this.showList();
  }

  private async open(docId: number): Promise<void> {
    const doc = await docsApi.get(this.projectId, docId);
    this.client.setLocation({ kind: "doc", ref: doc.name });
    void docsApi.read(this.projectId, docId).catch(() => undefined);
    const editorHost = h("div", { class: "doc-editor" });
    const link = h("p", { class: "doc-link", role: "status" });
    const people = h("ul", { class: "doc-people", "aria-label": t("docs.people") });
    const readonly = h("p", { class: "readonly-note" });
    const bar = h("div", { class: "doc-toolbar-slot" });
    const titleId = uid("doc");
    replace(
      this.host,
      h("p", { class: "back" }, h("a", { href: `#/p/${this.projectId}/documents` }, t("docs.all"))),
      h("h1", { id: titleId }, h("bdi", {}, doc.title)),
      h("div", { class: "doc-status" }, link, people),
      this.status,
      readonly,
      bar,
      editorHost,
    );
    if (doc.kind !== "richtext") {
      readonly.textContent = t("docs.other_kind");
      return;
    }
    // Yjs and ProseMirror load with the first open document, not with every page.
    const [{ DocEditor }, { renderToolbar, refreshToolbar }, { VersionsPanel }] = await Promise.all([
      import("../docs/editor"),
      import("../docs/toolbar"),
      import("../docs/history"),
    ]);
    if (!this.host.contains(editorHost)) return;
    const editor = new DocEditor(editorHost, this.projectId, doc.name, this.token, { id: this.user.id, name: this.user.display_name }, this.writable, t("docs.editor_label", { title: doc.title }), {
      changed: () => this.renderLink(editor, link, people),
      ended: (code) => this.ended(code),
    });
    this.editor = editor;
    const toolbar = renderToolbar(editor);
    editor.view.setProps({ dispatchTransaction: (tr) => {
      editor.view.updateState(editor.view.state.apply(tr));
      refreshToolbar(toolbar, editor);
    } });
    this.refreshOpen = () => {
      editor.setEditable(this.writable);
      replace(bar, editor.canEdit ? toolbar : null);
      readonly.textContent = this.client.status === "active" ? t("docs.read_only") : t("docs.read_only_archived");
      readonly.hidden = editor.canEdit;
    };
    this.refreshOpen();
    this.renderLink(editor, link, people);
    if (this.client.can("doc.manage")) {
      this.host.append(new VersionsPanel(this.projectId, doc.id, (id) => this.names.nameOf(id)).element);
    }
  }

  private renderLink(editor: DocEditor, link: HTMLElement, people: HTMLElement): void {
    const text = {
      synced: editor.canEdit ? t("docs.synced") : t("docs.synced_read"),
      connecting: t("docs.connecting"),
      offline: editor.unsent ? t("docs.offline_unsent") : t("docs.offline"),
      ended: t("docs.ended"),
    }[editor.link];
    link.className = `doc-link link-${editor.link}`;
    if (link.textContent !== text) link.textContent = text;
    replace(
      people,
      ...editor.people().map((person) =>
        h(
          "li",
          { class: "doc-person" },
          h("span", { class: "swatch", style: `background-color: ${person.color}`, "aria-hidden": "true" }),
          person.self ? t("presence.you", { name: person.name }) : person.name,
        ),
      ),
    );
  }

  private ended(code: number): void {
    // Called from inside the provider's own event: let it finish before it is destroyed.
    const editor = this.editor;
    this.editor = null;
    window.setTimeout(() => editor?.destroy(), 0);
    const reason = code === 4404 ? t("docs.deleted") : t("docs.no_access");
    replace(this.host, h("p", { role: "alert" }, reason), h("a", { href: `#/p/${this.projectId}/documents` }, t("docs.all")));
  }

  private async attempt(run: () => Promise<void>): Promise<void> {
    await attempt(this.status, run);
    // A failed first load has no list or editor around the alert yet.
    if (this.status.textContent && !this.host.contains(this.status)) replace(this.host, this.status);
  }
}
