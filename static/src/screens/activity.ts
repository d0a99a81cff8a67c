/** What's new since my last visit: unread chat, forum threads with new posts (under their
 * forums), the bulletin, the journal, pages and documents new or changed, new materials. */

import { h, replace } from "../dom";
import { formatNumber, t } from "../i18n";
import { type Activity, boards } from "../forums/api";
import { materials, openMaterial } from "../materials/api";
import type { RoomClient } from "../hub/room_client";
import { featureErrorText } from "./feature_errors";
import { titleOf } from "./names";
import type { RoomFeature } from "./features";

export class ActivityView implements RoomFeature {
  private activity: Activity | null = null;
  private readonly status = h("p", { class: "form-error", role: "alert" });
  private readonly body = h("div", {});

  constructor(
    readonly key: string,
    private readonly host: HTMLElement,
    private readonly client: RoomClient,
  ) {
    this.refresh();
    boards
      .activity(client.projectId)
      .then((activity) => {
        this.activity = activity;
        this.render();
      })
      .catch((error: unknown) => (this.status.textContent = featureErrorText(error)));
  }

  refresh(): void {
    replace(this.host, h("h1", {}, t("forums.activity_title")), this.status, this.body);
    this.render();
  }

  detach(): void {}

  private render(): void {
    const activity = this.activity;
    if (!activity) {
      replace(this.body, h("p", { role: "status" }, t("common.loading")));
      return;
    }
    const project = this.client.projectId;
    const chats = Object.entries(activity.chat).filter(([, unread]) => unread > 0);
    const count = (n: number) => h("span", { class: "badge unread", "aria-hidden": "true" }, formatNumber(n));
    const pages = activity.pages ?? [];
    const documents = activity.documents ?? [];
    const materials = activity.materials?.count ? activity.materials : null;
    const nothing = chats.length === 0 && activity.threads.length === 0 && !activity.bulletin && !activity.journal && pages.length === 0 && documents.length === 0 && !materials;
    // Threads under their forum, forums in the order of their latest thread.
    const forums = new Map<number, { title: string; threads: Activity["threads"] }>();
    for (const thread of activity.threads) {
      const forum = forums.get(thread.forum_id) ?? { title: thread.forum_title, threads: [] };
      forum.threads.push(thread);
      forums.set(thread.forum_id, forum);
    }
    replace(
      this.body,
      nothing ? h("p", {}, t("forums.activity_none")) : null,
      chats.length > 0 ? h("h2", {}, t("nav.channels")) : null,
      chats.length > 0
        ? h(
            "ul",
            { class: "board-list" },
            ...chats.map(([name, unread]) =>
              h("li", {}, h("a", { href: `#/p/${project}/chat/${encodeURIComponent(name)}` }, t("forums.activity_chat", { channel: titleOf(this.client.channels, name), count: unread })), " ", count(unread)),
            ),
          )
        : null,
      activity.threads.length > 0 ? h("h2", {}, t("forums.title")) : null,
      ...[...forums].flatMap(([forumId, forum]) => [
        h("h3", { class: "activity-forum" }, h("a", { href: `#/p/${project}/forums/${forumId}`, dir: "auto" }, forum.title)),
        h(
          "ul",
          { class: "board-list" },
          ...forum.threads.map((thread) =>
            h("li", {}, h("a", { href: `#/p/${project}/forums/t${thread.thread_id}`, dir: "auto" }, t("forums.activity_thread", { thread: thread.title, count: thread.unread })), " ", count(thread.unread)),
          ),
        ),
      ]),
      activity.bulletin
        ? h("p", {}, h("a", { href: `#/p/${project}/bulletin` }, t("forums.activity_bulletin", { count: activity.bulletin })), " ", count(activity.bulletin))
        : null,
      activity.journal
        ? h("p", {}, h("a", { href: `#/p/${project}/journal` }, t("forums.activity_journal", { count: activity.journal })), " ", count(activity.journal))
        : null,
      pages.length > 0
        ? h("p", {}, h("a", { href: `#/p/${project}/pages/${pages[0]}` }, t("forums.activity_pages", { count: pages.length })), " ", count(pages.length))
        : null,
      documents.length > 0 ? h("h2", {}, t("forums.activity_documents", { count: documents.length })) : null,
      documents.length > 0
        ? h(
            "ul",
            { class: "board-list" },
            ...documents.map((doc) => h("li", {}, h("a", { href: `#/p/${project}/documents/${doc.id}`, dir: "auto" }, doc.title))),
          )
        : null,
      materials ? h("h2", {}, t("forums.activity_materials", { count: materials.count })) : null,
      materials
        ? h(
            "ul",
            { class: "board-list" },
            ...materials.newest.map((m) =>
              h("li", {}, h("button", { type: "button", class: "link", dir: "auto", onclick: () => void openMaterial(project, m.id).catch((error: unknown) => (this.status.textContent = featureErrorText(error))) }, m.title || m.filename)),
            ),
          )
        : null,
      materials ? h("button", { type: "button", class: "secondary", onclick: () => void this.materialsSeen() }, t("forums.activity_materials_seen")) : null,
    );
  }

  /** The materials shown are seen: they leave the list (only the mark moves; nothing reloads). */
  private async materialsSeen(): Promise<void> {
    try {
      await materials.read(this.client.projectId);
      if (this.activity) this.activity = { ...this.activity, materials: { count: 0, newest: [] } };
      this.render();
    } catch (error) {
      this.status.textContent = featureErrorText(error);
    }
  }
}
