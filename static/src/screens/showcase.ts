/**
 * The showcase settings (teacher administrators, `showcase.manage`): the public address, which
 * published pages and journal posts it shows, pupils' names, search engines, the journal's rule
 * for pupils' posts, and one button that takes everything offline.
 */

import "./pages.css";
import { h, replace, uid } from "../dom";
import type { RoomClient } from "../hub/room_client";
import { type Key, t, tk } from "../i18n";
import { type JournalPost, type PageInfo, type Publishing, journalApi, pagesApi, publishingApi } from "../pages/api";
import { ask } from "./dialog";
import { attempt } from "./feature_errors";
import type { RoomFeature } from "./features";

const PUPIL_POSTS: [Publishing["pupil_posts"], Key][] = [
  ["review", tk("showcase.pupil_posts_review")],
  ["open", tk("showcase.pupil_posts_open")],
  ["off", tk("showcase.pupil_posts_off")],
];

export class ShowcaseView implements RoomFeature {
  private settings: Publishing | null = null;
  private pages: PageInfo[] = [];
  private posts: JournalPost[] = [];
  private readonly status = h("p", { class: "form-error", role: "alert" });
  private readonly saved = h("p", { role: "status" });
  private readonly body = h("div", {});

  constructor(
    readonly key: string,
    private readonly host: HTMLElement,
    private readonly client: RoomClient,
  ) {
    this.refresh();
    void attempt(this.status, () => this.load());
  }

  refresh(): void {
    replace(this.host, h("h1", {}, t("showcase.title")), h("p", {}, t("showcase.intro")), this.status, this.saved, this.body);
    this.render();
  }

  detach(): void {}

  private get project(): number {
    return this.client.projectId;
  }

  private async load(): Promise<void> {
    const [settings, pages, journal] = await Promise.all([publishingApi.get(this.project), pagesApi.list(this.project), journalApi.list(this.project)]);
    this.settings = settings;
    this.pages = pages.pages.filter((p) => p.state === "published" && p.visibility === "all");
    this.posts = [...journal.pinned, ...journal.posts].filter((p) => p.state === "published" && !p.deleted);
    this.render();
  }

  private render(): void {
    const s = this.settings;
    if (!s) {
      replace(this.body, h("p", { role: "status" }, t("common.loading")));
      return;
    }
    const ids = { slug: uid("slug"), names: uid("names"), pupils: uid("pupil-posts") };
    const slug = h("input", { id: ids.slug, name: "slug", value: s.slug ?? "", maxlength: 40, pattern: "[a-z0-9]+(-[a-z0-9]+)*", autocomplete: "off", dir: "ltr", "aria-describedby": `${ids.slug}-hint` });
    const on = h("input", { type: "checkbox", name: "showcase_on", checked: s.showcase_on });
    const indexable = h("input", { type: "checkbox", name: "indexable", checked: s.indexable });
    const names = h(
      "select",
      { id: ids.names, name: "pupil_names" },
      h("option", { value: "first_name", selected: s.pupil_names === "first_name" }, t("showcase.names_first")),
      h("option", { value: "none", selected: s.pupil_names === "none" }, t("showcase.names_none")),
    );
    const pupilPosts = h(
      "select",
      { id: ids.pupils, name: "pupil_posts" },
      ...PUPIL_POSTS.map(([v, label]) => h("option", { value: v, selected: s.pupil_posts === v }, t(label))),
    );
    const pick = (value: number, label: string, chosen: boolean, name: string) =>
      h("li", {}, h("label", {}, h("input", { type: "checkbox", name, value, checked: chosen }), " ", h("bdi", {}, label)));
    const form = h(
      "form",
      {
        class: "board-form showcase-form",
        onsubmit: (event: Event) => {
          event.preventDefault();
          const chosen = (name: string) => [...form.querySelectorAll<HTMLInputElement>(`input[name=${name}]:checked`)].map((i) => Number(i.value));
          this.saved.textContent = "";
          void attempt(this.status, async () => {
            this.settings = await publishingApi.update(this.project, {
              ...(slug.value.trim() ? { slug: slug.value.trim() } : {}),
              pupil_names: names.value as Publishing["pupil_names"],
              pupil_posts: pupilPosts.value as Publishing["pupil_posts"],
              indexable: indexable.checked,
              pages: chosen("page"),
              posts: chosen("post"),
              showcase_on: on.checked,
            });
            this.render();
            this.saved.textContent = t("showcase.saved");
          });
        },
      },
      h("label", { for: ids.slug }, t("showcase.slug")),
      slug,
      h("p", { class: "meta", id: `${ids.slug}-hint` }, t("showcase.slug_hint")),
      h("fieldset", {}, h("legend", {}, t("showcase.pages")), this.pages.length === 0 ? h("p", { class: "empty" }, t("showcase.no_pages")) : h("ul", { class: "plain-list" }, ...this.pages.map((p) => pick(p.id, p.title, s.pages.includes(p.id), "page")))),
      h("fieldset", {}, h("legend", {}, t("showcase.posts")), this.posts.length === 0 ? h("p", { class: "empty" }, t("showcase.no_posts")) : h("ul", { class: "plain-list" }, ...this.posts.map((p) => pick(p.id, p.body.slice(0, 80), s.posts.includes(p.id), "post")))),
      h("label", { for: ids.names }, t("showcase.names")),
      names,
      h("label", { for: ids.pupils }, t("showcase.pupil_posts")),
      pupilPosts,
      h("label", {}, indexable, " ", t("showcase.indexable")),
      h("label", {}, on, " ", t("showcase.on")),
      h("button", { type: "submit" }, t("common.save")),
    );
    replace(
      this.body,
      s.showcase_on && s.url ? h("p", { class: "banner" }, t("showcase.live"), " ", h("a", { href: s.url, target: "_blank", rel: "noopener" }, s.url)) : h("p", { class: "meta" }, t("showcase.offline")),
      form,
      s.showcase_on ? h("button", { type: "button", class: "danger", onclick: () => void this.unpublish() }, t("showcase.unpublish")) : null,
    );
  }

  private async unpublish(): Promise<void> {
    const ok = await ask({ title: t("showcase.unpublish_confirm"), confirm: t("showcase.unpublish"), danger: true });
    if (ok === null) return;
    await attempt(this.status, async () => {
      await publishingApi.unpublish(this.project);
      await this.load();
    });
  }
}
