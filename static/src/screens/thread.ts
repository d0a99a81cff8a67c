/**
 * One forum thread: its posts oldest first, replies, post actions, the moderators' pin, lock
 * and move, and live changes from the forum stream merged by version.
 */

import { h, replace, uid } from "../dom";
import { t } from "../i18n";
import { boards, type Forum, type Post, type Thread } from "../forums/api";
import { feedFor } from "../forums/feed";
import type { RoomClient } from "../hub/room_client";
import { type AttachPicker, AttachmentDrawings, attachPicker } from "./attachments";
import { attempt } from "./feature_errors";
import type { Names, RoomFeature } from "./features";
import { keepFocus } from "./focus";
import { excerpt, mergePost, postAction, postForm, renderPost } from "./posts";

export class ThreadView implements RoomFeature {
  private readonly posts = new Map<number, Post>();
  private thread: Thread | null = null;
  private forums: Forum[] = [];
  private nextAfter: number | null = null;
  private replyTo: number | null = null;
  private readSeq = 0;
  private readonly heading = h("div", { class: "thread-head" });
  private readonly list = h("ol", { class: "board-list posts" });
  private readonly more = h("button", { type: "button", class: "secondary", hidden: true }, t("forums.load_more"));
  private readonly status = h("p", { class: "form-error", role: "alert" });
  private readonly notice = h("p", { class: "hint", role: "status" });
  private readonly composer = h("div", {});
  private readonly field: HTMLTextAreaElement;
  private readonly fieldId = uid("reply");
  /** Kept across re-renders, as the field is: live changes must not untick a choice. */
  private readonly picker: AttachPicker;
  private readonly drawings: AttachmentDrawings;
  private readonly unsubscribe: () => void;

  constructor(
    readonly key: string,
    private readonly host: HTMLElement,
    private readonly client: RoomClient,
    private readonly threadId: number,
    private readonly names: Names,
  ) {
    this.field = h("textarea", { id: this.fieldId, rows: 3, maxlength: 20000, dir: "auto", required: true });
    this.picker = attachPicker(client.projectId, this.status);
    this.drawings = new AttachmentDrawings(client.projectId);
    this.more.addEventListener("click", () => void this.attempt(() => this.loadPage()));
    const feed = feedFor(client);
    this.unsubscribe = feed.on((event) => {
      if (event.stream !== "forum") return;
      if (event.kind === "reload") {
        void this.attempt(() => this.load());
        return;
      }
      if (event.kind === "reported") {
        if (this.posts.has(event.postId)) this.notice.textContent = t("forums.reported", { reason: event.reason });
        return;
      }
      const post = event.frame.post as Post | undefined;
      const thread = event.frame.thread as Thread | undefined;
      if (thread && thread.id === threadId && (!this.thread || thread.version >= this.thread.version)) this.thread = thread;
      if (post && post.thread_id === threadId) mergePost(this.posts, post);
      if ((post && post.thread_id === threadId) || (thread && thread.id === threadId)) this.render();
    });
    this.refresh();
    void this.attempt(async () => {
      await feed.ready;
      await this.load();
    });
  }

  refresh(): void {
    replace(this.host, this.heading, this.status, this.notice, this.list, this.more, this.composer);
    this.render();
  }

  detach(): void {
    this.unsubscribe();
  }

  private async load(): Promise<void> {
    this.posts.clear();
    this.nextAfter = null;
    if (this.client.can("forum.moderate")) this.forums = (await boards.forums(this.client.projectId)).forums;
    await this.loadPage();
  }

  private async loadPage(): Promise<void> {
    const page = await boards.posts(this.client.projectId, this.threadId, this.nextAfter);
    if (!this.thread || page.thread.version >= this.thread.version) this.thread = page.thread;
    for (const post of page.posts) mergePost(this.posts, post);
    this.nextAfter = page.next_after;
    this.render();
  }

  private attempt(run: () => Promise<unknown>): Promise<void> {
    return attempt(this.status, run);
  }

  private render(): void {
    const thread = this.thread;
    if (!thread) {
      replace(this.heading, h("p", { role: "status" }, t("common.loading")));
      return;
    }
    const moderator = this.client.can("forum.moderate");
    const writable = this.client.can("forum.reply") && (!thread.locked || moderator);
    replace(
      this.heading,
      h("p", {}, h("a", { href: `#/p/${this.client.projectId}/forums/${thread.forum_id}` }, t("forums.back_to_forum"))),
      h(
        "h1",
        { dir: "auto" },
        thread.title,
        thread.pinned ? h("span", { class: "tag" }, t("forums.pinned")) : null,
        thread.locked ? h("span", { class: "tag" }, t("forums.locked")) : null,
      ),
      moderator ? this.moderatorTools(thread) : null,
    );
    const ordered = [...this.posts.values()].sort((a, b) => a.seq - b.seq);
    this.lookUpAuthors(ordered);
    keepFocus(this.list, () =>
      replace(
        this.list,
        ...ordered.map((post) =>
          renderPost(post, {
            selfId: this.client.selfId,
            writable,
            moderator,
            nameOf: (id) => this.names.nameOf(id),
            quoted: (id) => this.posts.get(id),
            attachments: (post) => this.drawings.element(String(post.id), post.materials),
            reply: (quoted) => this.startReply(quoted),
            run: (action, target, emoji, on) =>
              void this.attempt(async () => {
                const changed = await postAction(this.client.projectId, action, target, emoji, on);
                if (changed && mergePost(this.posts, changed)) this.render();
              }),
          }),
        ),
      ),
    );
    this.more.hidden = this.nextAfter === null;
    this.renderComposer(writable, thread);
    this.markRead(ordered);
  }

  private readonly lookedUp = new Set<number>();

  /** Authors missing from the member list (pupils created since it loaded): reload it once. */
  private lookUpAuthors(posts: Post[]): void {
    const missing = posts.map((p) => p.author_id).filter((id) => !this.lookedUp.has(id) && !this.names.knows(id));
    if (missing.length === 0) return;
    for (const id of missing) this.lookedUp.add(id);
    this.names.loadMembers().then(() => this.render()).catch(() => undefined);
  }

  private moderatorTools(thread: Thread): HTMLElement {
    const moveId = uid("move");
    const change = (fields: Partial<Thread>) =>
      void this.attempt(async () => {
        const changed = await boards.changeThread(this.client.projectId, thread.id, fields);
        if (!this.thread || changed.version >= this.thread.version) this.thread = changed;
        this.render();
      });
    const select = h(
      "select",
      { id: moveId },
      ...this.forums.map((forum) => h("option", { value: String(forum.id), selected: forum.id === thread.forum_id }, forum.title)),
    );
    return h(
      "div",
      { class: "row", role: "group", "aria-label": t("forums.moderation") },
      h("button", { type: "button", class: "secondary", "aria-pressed": thread.pinned ? "true" : "false", onclick: () => change({ pinned: !thread.pinned }) }, t("forums.pin")),
      h("button", { type: "button", class: "secondary", "aria-pressed": thread.locked ? "true" : "false", onclick: () => change({ locked: !thread.locked }) }, t("forums.lock")),
      this.forums.length > 1 ? h("label", { for: moveId, class: "check" }, t("forums.move_to")) : null,
      this.forums.length > 1 ? select : null,
      this.forums.length > 1 ? h("button", { type: "button", class: "secondary", onclick: () => change({ forum_id: Number(select.value) }) }, t("forums.move")) : null,
    );
  }

  private renderComposer(writable: boolean, thread: Thread): void {
    if (!writable) {
      replace(this.composer, h("p", { class: "readonly-note" }, thread.locked ? t("forums.thread_locked") : t("chat.read_only")));
      return;
    }
    const quoted = this.replyTo === null ? undefined : this.posts.get(this.replyTo);
    const banner = quoted
      ? h(
          "p",
          { class: "reply-banner" },
          t("chat.replying_to", { name: this.names.nameOf(quoted.author_id) }),
          " ",
          h("span", { dir: "auto" }, excerpt(quoted)),
          " ",
          h("button", { type: "button", class: "link", onclick: () => { this.replyTo = null; this.render(); } }, t("chat.cancel_reply")),
        )
      : null;
    const form = postForm(this.field, t("forums.reply_label"), t("forums.post_reply"), async (body) => {
      mergePost(this.posts, await boards.reply(this.client.projectId, thread.id, body, this.replyTo, this.picker.chosen()));
      this.replyTo = null;
      this.picker.clear();
      this.render();
    }, (run) => this.attempt(run), banner, this.client.can("materials.read") ? this.picker.element : null);
    replace(this.composer, form);
  }

  private startReply(post: Post): void {
    this.replyTo = post.id;
    this.render();
    this.field.focus();
  }

  /** Marks the thread read up to its newest post while the page is in view. */
  private markRead(posts: Post[]): void {
    const newest = posts.length === 0 ? 0 : posts[posts.length - 1].seq;
    if (newest <= this.readSeq || document.visibilityState !== "visible") return;
    this.readSeq = newest;
    boards.readThread(this.client.projectId, this.threadId, newest).catch(() => {
      this.readSeq = 0;
    });
  }
}
