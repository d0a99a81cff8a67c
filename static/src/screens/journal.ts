/**
 * The project journal: posts in the light markup, likes, one level of comments, pins, and the
 * review queue (a pupil's post waits for a teacher when the project asks it). Live through
 * `journal.subscribe`: any change reloads the list, which is one request for a room's journal
 * (one per page of 50 once older posts are shown). Authors (and moderators) change a post; a
 * deleted one stays as a tombstone, as the server keeps it.
 */

import "./pages.css";
import { h, replace, uid } from "../dom";
import type { RoomClient } from "../hub/room_client";
import { formatTime, t } from "../i18n";
import { type JournalPost, journalApi } from "../pages/api";
import { pagesFeedFor } from "../pages/feed";
import { currentSession } from "../session";
import { ask } from "./dialog";
import { AttachmentDrawings, attachPicker } from "./attachments";
import { attempt } from "./feature_errors";
import type { Names, RoomFeature } from "./features";
import { safeFragment } from "./posts";

export class JournalView implements RoomFeature {
  private pinned: JournalPost[] = [];
  private posts: JournalPost[] = [];
  /** Pages of older posts shown beyond the newest, and where the next one starts. */
  private pages = 1;
  private nextBefore: number | null = null;
  private readonly open = new Map<number, JournalPost[]>();
  private readonly status = h("p", { class: "form-error", role: "alert" });
  private readonly notice = h("p", { role: "status" });
  private readonly list = h("div", { class: "journal-list" });
  private readonly drawings: AttachmentDrawings;
  private readonly unsubscribe: () => void;

  constructor(
    readonly key: string,
    private readonly host: HTMLElement,
    private readonly client: RoomClient,
    private readonly names: Names,
  ) {
    this.drawings = new AttachmentDrawings(client.projectId);
    this.unsubscribe = pagesFeedFor(client).on((event) => {
      if (event.kind === "post" || (event.kind === "reload" && event.stream === "journal")) void this.load();
    });
    this.refresh();
    void this.load();
  }

  refresh(): void {
    replace(this.host, h("h1", {}, t("journal.title")), this.composer(), this.notice, this.status, this.list);
    this.render();
  }

  detach(): void {
    this.unsubscribe();
  }

  private get project(): number {
    return this.client.projectId;
  }

  private get active(): boolean {
    return this.client.status === "active";
  }

  private get me(): number {
    return currentSession()?.user.id ?? 0;
  }

  private async load(): Promise<void> {
    await attempt(this.status, async () => {
      const page = await journalApi.list(this.project);
      let { posts, next_before: nextBefore } = page;
      for (let shown = 1; shown < this.pages && nextBefore !== null; shown += 1) {
        const older = await journalApi.list(this.project, nextBefore);
        posts = [...posts, ...older.posts];
        nextBefore = older.next_before;
      }
      this.pinned = page.pinned;
      this.posts = posts;
      this.nextBefore = nextBefore;
      for (const id of this.open.keys()) this.open.set(id, (await journalApi.comments(this.project, id)).comments);
      this.render();
      const newest = Math.max(0, ...[...page.pinned, ...page.posts].filter((p) => p.state === "published").map((p) => p.id));
      if (newest > 0) await journalApi.read(this.project, newest);
    });
  }

  private composer(): HTMLElement | null {
    if (!this.client.can("journal.post") || !this.active) return null;
    const id = uid("journal-body");
    const field = h("textarea", { id, name: "body", rows: 3, maxlength: 10000, required: true, dir: "auto" });
    const picker = attachPicker(this.project, this.status);
    const form = h(
      "form",
      {
        class: "board-form",
        onsubmit: (event: Event) => {
          event.preventDefault();
          const body = field.value.trim();
          if (!body) return;
          const materials = picker.chosen();
          void attempt(this.status, async () => {
            const post = await journalApi.post(this.project, body, materials);
            form.reset();
            picker.clear();
            // Its own status line: the alert line is cleared by every (live) reload.
            this.notice.textContent = post.state === "review" ? t("journal.sent_for_review") : "";
            await this.load();
          });
        },
      },
      h("label", { for: id }, t("journal.new")),
      field,
      picker.element,
      h("button", { type: "submit" }, t("journal.publish")),
    );
    return form;
  }

  private render(): void {
    const all = [...this.pinned, ...this.posts];
    replace(
      this.list,
      all.length === 0 ? h("p", { class: "empty" }, t("journal.empty")) : null,
      this.pinned.length > 0 ? h("h2", {}, t("journal.pinned")) : null,
      ...this.pinned.map((post) => this.renderPost(post)),
      this.pinned.length > 0 && this.posts.length > 0 ? h("h2", {}, t("journal.latest")) : null,
      ...this.posts.map((post) => this.renderPost(post)),
      this.nextBefore !== null ? h("button", { type: "button", class: "secondary journal-older", onclick: () => void this.older() }, t("journal.older")) : null,
    );
  }

  /** The next 50 older posts, kept through live reloads; the focus stays on the button. */
  private async older(): Promise<void> {
    const before = this.nextBefore;
    if (before === null) return;
    const first = this.posts.length;
    await attempt(this.status, async () => {
      const older = await journalApi.list(this.project, before);
      this.pages += 1;
      this.posts = [...this.posts, ...older.posts];
      this.nextBefore = older.next_before;
      this.render();
      // The focus stays at the reader's place: the button, or the first older post's first control.
      const next = this.list.querySelector<HTMLButtonElement>(".journal-older") ?? this.list.querySelectorAll<HTMLElement>(".journal-post")[first + this.pinned.length]?.querySelector("button");
      next?.focus();
    });
  }

  /** The text and, for a post (comments carry none), its attachments: PATCH replaces them. */
  private async edit(post: JournalPost): Promise<void> {
    // Those no longer available cannot be attached again: untouched, they stay as they are.
    const before = post.materials.flatMap((m) => (m.available ? [m.id] : []));
    const picker = post.parent_id === null ? attachPicker(this.project, this.status, before) : null;
    const body = await ask({ title: t("journal.edit_title"), label: t("journal.edit_label"), value: post.body, confirm: t("common.save"), extra: picker?.element });
    if (!body) return;
    const materials = picker?.chosen() ?? before;
    const changed = materials.length !== before.length || materials.some((id, i) => id !== before[i]);
    if (body === post.body && !changed) return;
    await attempt(this.status, async () => {
      await journalApi.patch(this.project, post.id, { ...(body === post.body ? {} : { body }), ...(changed ? { materials } : {}) });
      await this.load();
    });
  }

  private renderPost(post: JournalPost, comment = false): HTMLElement {
    const moderator = this.client.can("journal.moderate") && this.active;
    const mine = post.author_id === this.me;
    const body = h("div", { class: "post-body", dir: "auto" });
    if (post.deleted) body.append(h("em", {}, t("journal.deleted")));
    else body.append(safeFragment(post.html));
    const liked = post.likes.includes(this.me);
    const react = this.client.can("journal.react") && this.active && post.state === "published" && !post.deleted;
    const action = (run: () => Promise<unknown>) => () => void attempt(this.status, async () => {
      await run();
      await this.load();
    });
    const actions = h(
      "div",
      { class: "row-actions" },
      react
        ? h("button", { type: "button", class: "secondary", "aria-pressed": String(liked), onclick: action(() => journalApi.like(this.project, post.id, !liked)) }, liked ? t("journal.unlike") : t("journal.like"))
        : null,
      !comment && !post.deleted
        ? h("button", { type: "button", class: "secondary", "aria-expanded": String(this.open.has(post.id)), onclick: () => void this.toggleComments(post) }, t("journal.comments", { count: post.comment_count }))
        : null,
      !comment && moderator && post.state === "review" ? h("button", { type: "button", onclick: action(() => journalApi.patch(this.project, post.id, { approved: true })) }, t("journal.approve")) : null,
      !comment && moderator && post.state === "published" && !post.deleted
        ? h("button", { type: "button", class: "secondary", onclick: action(() => journalApi.patch(this.project, post.id, { pinned: !post.pinned })) }, post.pinned ? t("journal.unpin") : t("journal.pin"))
        : null,
      (mine || moderator) && !post.deleted && this.active ? h("button", { type: "button", class: "secondary", onclick: () => void this.edit(post) }, t("journal.edit")) : null,
      (mine || moderator) && !post.deleted && this.active ? h("button", { type: "button", class: "danger", onclick: () => void this.remove(post) }, t("journal.delete")) : null,
    );
    const comments = this.open.get(post.id);
    return h(
      comment ? "li" : "article",
      { class: comment ? "journal-comment" : `journal-post card${post.state === "review" ? " in-review" : ""}`, "data-post": post.id },
      h(
        "p",
        { class: "meta" },
        h("strong", {}, h("bdi", {}, post.author || this.names.nameOf(post.author_id))),
        " · ",
        h("time", { datetime: post.created_at }, formatTime(post.created_at)),
        post.edited_at && !post.deleted ? ` ${t("journal.edited")}` : "",
        post.state === "review" ? h("span", { class: "badge page-draft" }, t("journal.in_review")) : null,
        post.pinned ? h("span", { class: "badge" }, t("journal.pinned_badge")) : null,
        post.likes.length > 0 ? h("span", { class: "likes" }, ` · ${t("journal.likes", { count: post.likes.length })}`) : null,
      ),
      body,
      this.drawings.element(String(post.id), post.materials),
      actions,
      comments ? h("ul", { class: "journal-comments", "aria-label": t("journal.comments", { count: comments.length }) }, ...comments.map((c) => this.renderPost(c, true))) : null,
      comments && react ? this.commentForm(post) : null,
    );
  }

  private async toggleComments(post: JournalPost): Promise<void> {
    if (this.open.has(post.id)) this.open.delete(post.id);
    else await attempt(this.status, async () => this.open.set(post.id, (await journalApi.comments(this.project, post.id)).comments));
    this.render();
  }

  private commentForm(post: JournalPost): HTMLElement {
    const id = uid("comment");
    const field = h("input", { id, name: "comment", maxlength: 10000, required: true, dir: "auto", autocomplete: "off" });
    return h(
      "form",
      {
        class: "row",
        onsubmit: (event: Event) => {
          event.preventDefault();
          const body = field.value.trim();
          if (body) void attempt(this.status, async () => {
            await journalApi.comment(this.project, post.id, body);
            await this.load();
          });
        },
      },
      h("label", { for: id }, t("journal.comment_label")),
      field,
      h("button", { type: "submit" }, t("journal.comment")),
    );
  }

  private async remove(post: JournalPost): Promise<void> {
    const ok = await ask({ title: t("journal.delete_confirm"), confirm: t("journal.delete"), danger: true });
    if (ok === null) return;
    await attempt(this.status, async () => {
      await journalApi.remove(this.project, post.id);
      await this.load();
    });
  }
}

