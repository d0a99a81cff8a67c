/**
 * The project's pages: the menu (a tree up to three levels, live through `pages.subscribe`) and
 * one open page, its body in the shared rich-text editor (the same `DocEditor` as documents).
 * Teacher administrators (`page.manage`) create, rename, move (drag, or the up/down buttons
 * and the "under" choice from the keyboard), publish, hide and delete pages. Editors insert
 * embeds (materials, documents, threads, messages) with the "Insert" picker (pages/embeds.ts).
 */

import "../docs/docs.css";
import "./pages.css";
import { h, replace, uid } from "../dom";
import type { DocEditor } from "../docs/editor";
import type { RoomClient } from "../hub/room_client";
import { t } from "../i18n";
import { type PageInfo, pagesApi } from "../pages/api";
import { pagesFeedFor } from "../pages/feed";
import { currentSession } from "../session";
import { ask } from "./dialog";
import { attempt } from "./feature_errors";
import type { RoomFeature } from "./features";

const MAX_DEPTH = 3;

/** A new page's title being typed, per project: it outlives the view, which the room may build
 * again (a reconnect, a slow first load) while the teacher types. */
const titleDrafts = new Map<number, string>();
/** The title field on screen, per project. When the room builds the view again while the
 * teacher types, what reached the field it replaced (and the draft) must show in the new one:
 * under load the new form was made, empty, just before the typing landed in the old one. */
const titleFields = new Map<number, HTMLInputElement>();

export class PagesView implements RoomFeature {
  private menu: PageInfo[] = [];
  private editor: DocEditor | null = null;
  private readonly status = h("p", { class: "form-error", role: "alert" });
  private readonly menuHost = h("nav", { class: "pages-menu" });
  private readonly pageHost = h("div", { class: "page-body" });
  private readonly unsubscribe: () => void;
  private dragged: number | null = null;
  // Live menus received so far: `loadMenu` keeps its answer only if none came meanwhile.
  private liveMenus = 0;
  // Kept across menu renders: a live menu change must not wipe a title being typed.
  private form: { element: HTMLElement; parent: HTMLSelectElement } | null = null;

  constructor(
    readonly key: string,
    private readonly host: HTMLElement,
    private readonly client: RoomClient,
    private readonly pageId: number | null,
  ) {
    this.unsubscribe = pagesFeedFor(client).on((event) => {
      if (event.kind === "menu") {
        this.liveMenus += 1;
        this.menu = event.menu.filter((p) => p.title !== undefined);
        this.renderMenu();
        if (this.pageId !== null && !this.menu.some((p) => p.id === this.pageId)) this.gone();
        else this.renderControls();
      } else if (event.kind === "reload" && event.stream === "pages") void this.loadMenu();
    });
    this.refresh();
    void attempt(this.status, async () => {
      await this.loadMenu();
      if (pageId !== null) await this.open(pageId);
    });
  }

  refresh(): void {
    this.menuHost.setAttribute("aria-label", t("pages.menu"));
    replace(this.host, h("div", { class: "pages-layout" }, this.menuHost, h("div", { class: "page-main" }, this.status, this.pageHost)));
    this.renderMenu();
    if (this.pageId === null) replace(this.pageHost, h("h1", {}, t("pages.title")), this.menu.length === 0 ? h("p", { class: "empty" }, t("pages.empty")) : h("p", {}, t("pages.choose")));
    else this.renderControls();
  }

  detach(): void {
    this.unsubscribe();
    this.editor?.destroy();
    this.editor = null;
  }

  private get manager(): boolean {
    return this.client.can("page.manage") && this.client.status === "active";
  }

  private get project(): number {
    return this.client.projectId;
  }

  private async loadMenu(): Promise<void> {
    const seen = this.liveMenus;
    const listed = (await pagesApi.list(this.project)).pages;
    // A live menu that came while the list was on its way is newer: a late answer must not undo
    // it (a page published meanwhile vanished from a pupil's menu so on a busy machine).
    if (this.liveMenus !== seen) return;
    this.menu = listed;
    this.renderMenu();
    if (this.pageId === null) this.refresh();
  }

  private children(parentId: number | null): PageInfo[] {
    return this.menu.filter((p) => p.parent_id === parentId).sort((a, b) => a.position - b.position);
  }

  private depth(page: PageInfo): number {
    let depth = 1;
    let parent = this.menu.find((p) => p.id === page.parent_id);
    while (parent) {
      depth += 1;
      const above = parent.parent_id;
      parent = this.menu.find((p) => p.id === above);
    }
    return depth;
  }

  private renderMenu(): void {
    const tree = (parentId: number | null): HTMLElement | null => {
      const pages = this.children(parentId);
      if (pages.length === 0) return null;
      return h("ul", { class: "pages-tree" }, ...pages.map((page, index) => this.menuItem(page, index, pages.length, tree(page.id))));
    };
    replace(
      this.menuHost,
      h("h2", { class: "nav-heading" }, t("pages.menu")),
      tree(null) ?? h("p", { class: "empty" }, t("pages.empty")),
      this.manager ? this.createForm() : null,
    );
  }

  private menuItem(page: PageInfo, index: number, count: number, below: HTMLElement | null): HTMLElement {
    const badges = [
      page.state === "draft" ? h("span", { class: "badge page-draft" }, t("pages.draft")) : null,
      page.visibility === "teachers" ? h("span", { class: "badge page-staff" }, t("pages.teachers_only")) : null,
    ];
    const move = (delta: number) => () => void attempt(this.status, () => pagesApi.update(this.project, page.id, { position: page.position + delta }));
    const item = h(
      "li",
      { "data-page": page.id },
      h(
        "div",
        { class: "page-item" },
        h("a", { href: `#/p/${this.project}/pages/${page.id}`, "aria-current": page.id === this.pageId ? "page" : null }, h("bdi", {}, page.title)),
        ...badges,
        this.manager
          ? h(
              "span",
              { class: "row-actions" },
              h("button", { type: "button", class: "secondary icon", disabled: index === 0, "aria-label": t("pages.move_up", { title: page.title }), onclick: move(-1) }, "↑"),
              h("button", { type: "button", class: "secondary icon", disabled: index === count - 1, "aria-label": t("pages.move_down", { title: page.title }), onclick: move(1) }, "↓"),
            )
          : null,
      ),
      below,
    );
    if (this.manager) this.draggable(item, page);
    return item;
  }

  /** Dragging a page onto a sibling puts it in that sibling's place. */
  private draggable(item: HTMLElement, page: PageInfo): void {
    item.draggable = true;
    item.addEventListener("dragstart", (event) => {
      event.stopPropagation();
      this.dragged = page.id;
      event.dataTransfer?.setData("text/plain", String(page.id));
    });
    item.addEventListener("dragover", (event) => {
      const moving = this.menu.find((p) => p.id === this.dragged);
      if (moving && moving.id !== page.id && moving.parent_id === page.parent_id) event.preventDefault();
    });
    item.addEventListener("drop", (event) => {
      event.preventDefault();
      event.stopPropagation();
      const moving = this.dragged;
      this.dragged = null;
      if (moving !== null && moving !== page.id) void attempt(this.status, () => pagesApi.update(this.project, moving, { position: page.position }));
    });
  }

  /** The "New page" form: made once, so what is typed survives the menu's live updates; only
   * its list of places is made again, keeping the choice. */
  private createForm(): HTMLElement {
    if (this.form) {
      const chosen = this.form.parent.value;
      const fresh = this.parentSelect(this.form.parent.id, null, null);
      this.form.parent.replaceChildren(...Array.from(fresh.options));
      this.form.parent.value = Array.from(this.form.parent.options).some((o) => o.value === chosen) ? chosen : "";
      return this.form.element;
    }
    const titleId = uid("page-title");
    const parentId = uid("page-parent");
    const field = h("input", { id: titleId, name: "title", required: true, maxlength: 120, autocomplete: "off", dir: "auto", value: titleDrafts.get(this.project) ?? "" });
    field.addEventListener("input", () => {
      titleDrafts.set(this.project, field.value);
      const shown = titleFields.get(this.project);
      if (shown && shown !== field) shown.value = field.value;
    });
    titleFields.set(this.project, field);
    const parent = this.parentSelect(parentId, null, null);
    const element = h(
      "form",
      {
        class: "board-form page-create",
        onsubmit: (event: Event) => {
          event.preventDefault();
          const title = field.value.trim();
          if (!title) return;
          void attempt(this.status, async () => {
            const page = await pagesApi.create(this.project, title, parent.value ? Number(parent.value) : null);
            field.value = "";
            titleDrafts.delete(this.project);
            location.hash = `#/p/${this.project}/pages/${page.id}`;
          });
        },
      },
      h("h2", {}, t("pages.new")),
      h("label", { for: titleId }, t("pages.new_title")),
      field,
      h("label", { for: parentId }, t("pages.parent")),
      parent,
      h("button", { type: "submit" }, t("pages.create")),
    );
    this.form = { element, parent };
    return element;
  }

  /** The places a page may go: the top level, or under a page not below it and not too deep. */
  private parentSelect(id: string, moving: PageInfo | null, current: number | null): HTMLSelectElement {
    const below = (candidate: PageInfo): boolean => {
      for (let p: PageInfo | undefined = candidate; p; p = this.menu.find((q) => q.id === p?.parent_id)) if (moving && p.id === moving.id) return true;
      return false;
    };
    const options = this.menu
      .filter((p) => !below(p) && this.depth(p) < MAX_DEPTH)
      .map((p) => h("option", { value: p.id, selected: p.id === current }, `${"– ".repeat(this.depth(p) - 1)}${p.title}`));
    return h("select", { id, name: "parent" }, h("option", { value: "" }, t("pages.top_level")), ...options);
  }

  private async open(pageId: number): Promise<void> {
    const page = await pagesApi.get(this.project, pageId);
    this.client.setLocation({ kind: "doc", ref: page.document });
    void pagesApi.read(this.project, pageId).catch(() => undefined);
    const controls = h("div", { class: "page-controls" });
    const bar = h("div", { class: "doc-toolbar-slot" });
    const editorHost = h("div", { class: "doc-editor" });
    replace(this.pageHost, h("h1", { class: "page-title" }, h("bdi", {}, page.title)), controls, bar, editorHost);
    this.renderControls();
    const [{ DocEditor }, { renderToolbar, refreshToolbar }, { embedViews, pickEmbed }] = await Promise.all([import("../docs/editor"), import("../docs/toolbar"), import("../pages/embeds")]);
    if (!this.host.contains(editorHost)) return;
    const session = currentSession();
    const writable = this.client.can("page.edit") && this.client.status === "active";
    const editor = new DocEditor(editorHost, this.project, page.document, session?.token ?? "", { id: session?.user.id ?? 0, name: session?.user.display_name ?? "" }, writable, t("pages.editor_label", { title: page.title }), {
      changed: () => undefined,
      ended: () => this.gone(),
    }, embedViews(this.client));
    this.editor = editor;
    if (writable) {
      const toolbar = renderToolbar(editor);
      editor.view.setProps({
        dispatchTransaction: (tr) => {
          editor.view.updateState(editor.view.state.apply(tr));
          refreshToolbar(toolbar, editor);
        },
      });
      const insert = h("button", { type: "button", class: "secondary embed-insert", "aria-haspopup": "dialog", onclick: () => void pickEmbed(this.client, editor.view) }, t("pages.insert"));
      replace(bar, h("div", { class: "row-actions" }, toolbar, insert));
    }
  }

  /** The open page's title, state and the teacher administrators' controls, from the menu. */
  private renderControls(): void {
    const page = this.menu.find((p) => p.id === this.pageId);
    const controls = this.pageHost.querySelector<HTMLElement>(".page-controls");
    const title = this.pageHost.querySelector<HTMLElement>(".page-title");
    if (!page || !controls) return;
    if (title) replace(title, h("bdi", {}, page.title));
    const state = h("p", { class: "meta" }, page.state === "draft" ? t("pages.draft_note") : t("pages.published_note"), page.visibility === "teachers" ? ` · ${t("pages.teachers_only")}` : "");
    if (!this.manager) {
      replace(controls, state);
      return;
    }
    const change = (fields: Parameters<typeof pagesApi.update>[2]) => void attempt(this.status, () => pagesApi.update(this.project, page.id, fields));
    const visibilityId = uid("page-visibility");
    const parentId = uid("page-move");
    const parent = this.parentSelect(parentId, page, page.parent_id);
    replace(
      controls,
      state,
      h(
        "div",
        { class: "row-actions" },
        h("button", { type: "button", onclick: () => change({ state: page.state === "draft" ? "published" : "draft" }) }, page.state === "draft" ? t("pages.publish") : t("pages.unpublish")),
        h("button", { type: "button", class: "secondary", onclick: () => void this.rename(page) }, t("pages.rename")),
        h("button", { type: "button", class: "danger", onclick: () => void this.remove(page) }, t("pages.delete")),
      ),
      h(
        "div",
        { class: "row" },
        h("label", { for: visibilityId }, t("pages.visibility")),
        h(
          "select",
          { id: visibilityId, onchange: (event: Event) => change({ visibility: (event.target as HTMLSelectElement).value as PageInfo["visibility"] }) },
          h("option", { value: "all", selected: page.visibility === "all" }, t("pages.visible_all")),
          h("option", { value: "teachers", selected: page.visibility === "teachers" }, t("pages.teachers_only")),
        ),
        h("label", { for: parentId }, t("pages.parent")),
        parent,
        h("button", { type: "button", class: "secondary", onclick: () => change({ parent_id: parent.value ? Number(parent.value) : null }) }, t("pages.move")),
      ),
    );
  }

  private async rename(page: PageInfo): Promise<void> {
    const title = await ask({ title: t("pages.rename"), label: t("pages.new_title"), value: page.title, confirm: t("common.save") });
    if (title) await attempt(this.status, () => pagesApi.update(this.project, page.id, { title: title.slice(0, 120) }));
  }

  private async remove(page: PageInfo): Promise<void> {
    const ok = await ask({ title: t("pages.delete_confirm", { title: page.title }), confirm: t("pages.delete"), danger: true });
    if (ok === null) return;
    await attempt(this.status, async () => {
      await pagesApi.remove(this.project, page.id);
      location.hash = `#/p/${this.project}/pages`;
    });
  }

  private gone(): void {
    const editor = this.editor;
    this.editor = null;
    window.setTimeout(() => editor?.destroy(), 0);
    replace(this.pageHost, h("p", { role: "alert" }, t("pages.gone")), h("a", { href: `#/p/${this.project}/pages` }, t("pages.all")));
  }
}
