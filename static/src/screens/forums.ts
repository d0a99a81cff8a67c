/**
 * The forums: the list of forums (teacher administrators add new ones), and one forum's
 * threads, pinned first then by latest activity, with the form that opens a thread. Both follow
 * the forum stream live.
 */

import { h, replace, uid } from "../dom";
import { formatTime, t } from "../i18n";
import { boards, type Forum, type Thread } from "../forums/api";
import { feedFor } from "../forums/feed";
import type { RoomClient } from "../hub/room_client";
import { attachPicker } from "./attachments";
import { featureErrorText } from "./feature_errors";
import type { Names, RoomFeature } from "./features";

/** A small labelled form; `fields` are (name, label, multiline) and all are required. */
function smallForm(title: string, submit: string, fields: [string, string, boolean][], send: (values: Record<string, string>) => Promise<void>, status: HTMLElement, extra: HTMLElement | null = null): HTMLElement {
  const inputs = fields.map(([name, label, multiline]) => {
    const id = uid(name);
    const input = multiline
      ? h("textarea", { id, name, rows: 4, maxlength: 20000, required: true, dir: "auto" })
      : h("input", { id, name, maxlength: 200, required: true, dir: "auto" });
    return { name, input, label: h("label", { for: id }, label) };
  });
  const form = h(
    "form",
    {
      class: "board-form",
      onsubmit: (event: Event) => {
        event.preventDefault();
        const values: Record<string, string> = {};
        for (const { name, input } of inputs) values[name] = input.value.trim();
        status.textContent = "";
        send(values)
          .then(() => form.reset())
          .catch((error: unknown) => (status.textContent = featureErrorText(error)));
      },
    },
    h("h2", {}, title),
    ...inputs.flatMap(({ label, input }) => [label, input]),
    extra,
    h("button", { type: "submit" }, submit),
  );
  return form;
}

/** `#/p/<id>/forums`: every forum of the room. */
export class ForumsView implements RoomFeature {
  private forums: Forum[] | null = null;
  private readonly status = h("p", { class: "form-error", role: "alert" });
  private readonly list = h("ul", { class: "board-list forums" });
  private readonly unsubscribe: () => void;

  constructor(
    readonly key: string,
    private readonly host: HTMLElement,
    private readonly client: RoomClient,
  ) {
    const feed = feedFor(client);
    this.unsubscribe = feed.on((event) => {
      if (event.stream !== "forum" || event.kind === "reported") return;
      if (event.kind === "reload" || event.frame.type.startsWith("forum.forum.")) void this.load();
    });
    this.refresh();
    void feed.ready.then(() => this.load());
  }

  refresh(): void {
    const form = this.client.can("forum.manage")
      ? smallForm(t("forums.new_forum"), t("forums.create_forum"), [["title", t("forums.forum_title"), false]], async ({ title }) => {
          await boards.createForum(this.client.projectId, title);
          await this.load();
        }, this.status)
      : null;
    replace(this.host, h("h1", {}, t("forums.title")), this.status, this.list, form);
    this.render();
  }

  detach(): void {
    this.unsubscribe();
  }

  private async load(): Promise<void> {
    try {
      this.forums = (await boards.forums(this.client.projectId)).forums;
      this.render();
    } catch (error) {
      this.status.textContent = featureErrorText(error);
    }
  }

  private render(): void {
    if (this.forums === null) {
      replace(this.list, h("li", { class: "empty" }, t("common.loading")));
      return;
    }
    if (this.forums.length === 0) {
      replace(this.list, h("li", { class: "empty" }, t("forums.no_forums")));
      return;
    }
    replace(
      this.list,
      ...this.forums.map((forum) =>
        h(
          "li",
          {},
          h("a", { href: `#/p/${this.client.projectId}/forums/${forum.id}`, dir: "auto" }, forum.title),
          forum.description ? h("p", { class: "meta", dir: "auto" }, forum.description) : null,
        ),
      ),
    );
  }
}

/** `#/p/<id>/forums/<forum id>`: one forum's threads. */
export class ForumView implements RoomFeature {
  private forum: Forum | null = null;
  private readonly threads = new Map<number, Thread>();
  private nextBefore: number | null = null;
  private readonly status = h("p", { class: "form-error", role: "alert" });
  private readonly heading = h("div", {});
  private readonly list = h("ul", { class: "board-list threads" });
  private readonly more = h("button", { type: "button", class: "secondary", hidden: true }, t("forums.load_more"));
  private readonly unsubscribe: () => void;

  constructor(
    readonly key: string,
    private readonly host: HTMLElement,
    private readonly client: RoomClient,
    private readonly forumId: number,
    private readonly names: Names,
  ) {
    this.more.addEventListener("click", () => void this.loadPage());
    const feed = feedFor(client);
    this.unsubscribe = feed.on((event) => {
      if (event.stream !== "forum" || event.kind === "reported") return;
      if (event.kind === "reload") {
        void this.load();
        return;
      }
      const thread = event.frame.thread as Thread | undefined;
      const forum = event.frame.forum as Forum | undefined;
      if (forum && forum.id === forumId) this.forum = event.frame.type === "forum.forum.deleted" ? null : forum;
      if (thread) this.mergeThread(thread);
      if (thread || forum) this.render();
    });
    this.refresh();
    void feed.ready.then(() => this.load());
  }

  refresh(): void {
    const picker = this.client.can("materials.read") ? attachPicker(this.client.projectId, this.status) : null;
    const form = this.client.can("forum.create_thread")
      ? smallForm(
          t("forums.new_thread"),
          t("forums.create_thread"),
          [["title", t("forums.thread_title"), false], ["body", t("forums.first_post"), true]],
          async ({ title, body }) => {
            const made = await boards.createThread(this.client.projectId, this.forumId, title, body, picker?.chosen());
            location.hash = `#/p/${this.client.projectId}/forums/t${made.thread.id}`;
          },
          this.status,
          picker?.element ?? null,
        )
      : null;
    replace(this.host, this.heading, this.status, this.list, this.more, form);
    this.render();
  }

  detach(): void {
    this.unsubscribe();
  }

  /** A thread here is kept when newer; one moved elsewhere leaves the list. */
  private mergeThread(thread: Thread): void {
    const held = this.threads.get(thread.id);
    if (held && held.version > thread.version) return;
    if (thread.forum_id === this.forumId) this.threads.set(thread.id, thread);
    else this.threads.delete(thread.id);
  }

  private async load(): Promise<void> {
    try {
      const forums = (await boards.forums(this.client.projectId)).forums;
      this.forum = forums.find((forum) => forum.id === this.forumId) ?? null;
      this.threads.clear();
      this.nextBefore = null;
      await this.loadPage();
    } catch (error) {
      this.status.textContent = featureErrorText(error);
    }
  }

  private async loadPage(): Promise<void> {
    try {
      const page = await boards.threads(this.client.projectId, this.forumId, this.nextBefore);
      for (const thread of [...page.pinned, ...page.threads]) this.mergeThread(thread);
      this.nextBefore = page.next_before;
      this.render();
    } catch (error) {
      this.status.textContent = featureErrorText(error);
    }
  }

  private render(): void {
    replace(
      this.heading,
      h("p", {}, h("a", { href: `#/p/${this.client.projectId}/forums` }, t("forums.all_forums"))),
      h("h1", { dir: "auto" }, this.forum?.title ?? t("forums.title")),
      this.forum?.description ? h("p", { dir: "auto" }, this.forum.description) : null,
    );
    const threads = [...this.threads.values()].sort((a, b) => Number(b.pinned) - Number(a.pinned) || b.last_post_seq - a.last_post_seq);
    replace(
      this.list,
      ...threads.map((thread) =>
        h(
          "li",
          {},
          h("a", { href: `#/p/${this.client.projectId}/forums/t${thread.id}`, dir: "auto" }, thread.title),
          thread.pinned ? h("span", { class: "tag" }, t("forums.pinned")) : null,
          thread.locked ? h("span", { class: "tag" }, t("forums.locked")) : null,
          h(
            "p",
            { class: "meta" },
            t("forums.thread_meta", { name: this.names.nameOf(thread.author_id), count: thread.post_count, date: formatTime(thread.created_at) }),
          ),
        ),
      ),
    );
    if (threads.length === 0) this.list.append(h("li", { class: "empty" }, t("forums.no_threads")));
    this.more.hidden = this.nextBefore === null;
  }
}
