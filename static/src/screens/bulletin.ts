/** The teachers' bulletin: one board, newest first, for the roles with `bulletin.read`. */

import { h, replace, uid } from "../dom";
import { t } from "../i18n";
import { boards, type Post } from "../forums/api";
import { feedFor } from "../forums/feed";
import type { RoomClient } from "../hub/room_client";
import { attempt } from "./feature_errors";
import type { Names, RoomFeature } from "./features";
import { keepFocus } from "./focus";
import { mergePost, postAction, postForm, renderPost } from "./posts";

export class BulletinView implements RoomFeature {
  private readonly posts = new Map<number, Post>();
  private nextBefore: number | null = null;
  private loaded = false;
  private readSeq = 0;
  private readonly status = h("p", { class: "form-error", role: "alert" });
  private readonly notice = h("p", { class: "hint", role: "status" });
  private readonly list = h("ol", { class: "board-list posts" });
  private readonly more = h("button", { type: "button", class: "secondary", hidden: true }, t("forums.load_more"));
  private readonly fieldId = uid("bulletin");
  private readonly field = h("textarea", { id: this.fieldId, rows: 3, maxlength: 20000, required: true, dir: "auto" });
  private readonly unsubscribe: () => void;

  constructor(
    readonly key: string,
    private readonly host: HTMLElement,
    private readonly client: RoomClient,
    private readonly names: Names,
  ) {
    this.more.addEventListener("click", () => void this.attempt(() => this.loadPage()));
    const feed = feedFor(client);
    this.unsubscribe = feed.on((event) => {
      if (event.stream !== "bulletin") return;
      if (event.kind === "reload") void this.attempt(() => this.load());
      else if (event.kind === "reported") this.notice.textContent = t("forums.reported", { reason: event.reason });
      else if (mergePost(this.posts, event.frame.post as Post)) this.render();
    });
    this.refresh();
    void this.attempt(async () => {
      await feed.ready;
      await this.load();
    });
  }

  refresh(): void {
    const form = this.client.can("bulletin.post")
      ? postForm(this.field, t("forums.bulletin_label"), t("forums.bulletin_post"), async (body) => {
          mergePost(this.posts, await boards.postBulletin(this.client.projectId, body));
          this.render();
        }, (run) => this.attempt(run))
      : null;
    replace(this.host, h("h1", {}, t("forums.bulletin_title")), h("p", { class: "hint" }, t("forums.bulletin_intro")), form, this.status, this.notice, this.list, this.more);
    this.render();
  }

  detach(): void {
    this.unsubscribe();
  }

  private attempt(run: () => Promise<unknown>): Promise<void> {
    return attempt(this.status, run);
  }

  private async load(): Promise<void> {
    this.posts.clear();
    this.nextBefore = null;
    await this.loadPage();
  }

  private async loadPage(): Promise<void> {
    const page = await boards.bulletin(this.client.projectId, this.nextBefore);
    for (const post of page.posts) mergePost(this.posts, post);
    this.nextBefore = page.next_before;
    this.loaded = true;
    this.render();
  }

  private render(): void {
    const posts = [...this.posts.values()].sort((a, b) => b.seq - a.seq);
    const writable = this.client.can("bulletin.post");
    keepFocus(this.list, () =>
      replace(
        this.list,
        ...posts.map((post) =>
          renderPost(post, {
            selfId: this.client.selfId,
            writable,
            moderator: this.client.can("bulletin.moderate"),
            nameOf: (id) => this.names.nameOf(id),
            quoted: (id) => this.posts.get(id),
            reply: null,
            run: (action, target, emoji, on) =>
              void this.attempt(async () => {
                const changed = await postAction(this.client.projectId, action, target, emoji, on);
                if (changed && mergePost(this.posts, changed)) this.render();
              }),
          }),
        ),
      ),
    );
    if (this.loaded && posts.length === 0) this.list.append(h("li", { class: "empty" }, t("forums.bulletin_empty")));
    this.more.hidden = this.nextBefore === null;
    const newest = posts[0]?.seq ?? 0;
    if (newest > this.readSeq && document.visibilityState === "visible") {
      this.readSeq = newest;
      boards.readBulletin(this.client.projectId, newest).catch(() => (this.readSeq = 0));
    }
  }
}
