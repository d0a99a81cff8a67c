/** Search across chat, forums, (for teachers) the bulletin, pages, the journal, documents and
 * materials; matches highlighted safely. */

import { h, replace, uid } from "../dom";
import { formatTime, t } from "../i18n";
import { boards, type Hit } from "../forums/api";
import { openMaterial } from "../materials/api";
import type { RoomClient } from "../hub/room_client";
import { featureErrorText } from "./feature_errors";
import { titleOf } from "./names";
import type { Names, RoomFeature } from "./features";
import { SNIPPET_TAGS, safeFragment } from "./posts";

export class SearchView implements RoomFeature {
  private hits: Hit[] = [];
  private cursor: string | null = null;
  private searched = false;
  private readonly fieldId = uid("search");
  private readonly field = h("input", { id: this.fieldId, type: "search", name: "q", maxlength: 200, required: true, dir: "auto" });
  private readonly status = h("p", { class: "form-error", role: "alert" });
  private readonly summary = h("p", { role: "status" });
  private readonly list = h("ol", { class: "board-list search-hits" });
  private readonly more = h("button", { type: "button", class: "secondary", hidden: true }, t("forums.load_more"));

  constructor(
    readonly key: string,
    private readonly host: HTMLElement,
    private readonly client: RoomClient,
    query: string | null,
    private readonly names: Names,
  ) {
    this.field.value = query ?? "";
    this.more.addEventListener("click", () => void this.run(false));
    this.refresh();
    if (query) void this.run(true);
  }

  refresh(): void {
    const form = h(
      "form",
      {
        class: "row",
        role: "search",
        onsubmit: (event: Event) => {
          event.preventDefault();
          const q = this.field.value.trim();
          // The query goes into the address, so the browser's Back returns to the results.
          if (q) location.hash = `#/p/${this.client.projectId}/search/${encodeURIComponent(q)}`;
        },
      },
      h("label", { for: this.fieldId }, t("forums.search_label")),
      this.field,
      h("button", { type: "submit" }, t("forums.search")),
    );
    replace(this.host, h("h1", {}, t("forums.search_title")), form, this.status, this.summary, this.list, this.more);
    this.render();
  }

  detach(): void {}

  private async run(first: boolean): Promise<void> {
    this.status.textContent = "";
    try {
      const page = await boards.search(this.client.projectId, this.field.value.trim(), first ? null : this.cursor);
      this.hits = first ? page.hits : [...this.hits, ...page.hits];
      this.cursor = page.next_cursor;
      this.searched = true;
      this.render();
    } catch (error) {
      this.status.textContent = featureErrorText(error);
    }
  }

  private render(): void {
    this.summary.textContent = this.searched ? t("forums.search_count", { count: this.hits.length }) : "";
    replace(this.list, ...this.hits.map((hit) => this.renderHit(hit)));
    this.more.hidden = this.cursor === null;
  }

  private renderHit(hit: Hit): HTMLElement {
    const project = this.client.projectId;
    // A document found by its title alone may have no text to show.
    const snippet = hit.snippet ? h("p", { class: "snippet", dir: "auto" }, safeFragment(hit.snippet, SNIPPET_TAGS)) : null;
    const meta = h("p", { class: "meta" }, this.names.nameOf(hit.author_id), " · ", h("time", { datetime: hit.created_at }, formatTime(hit.created_at)));
    if (hit.kind === "material") {
      // No material screen to go to: the file itself opens, through a fresh signed link.
      const label = t("forums.hit_material", { title: hit.title || hit.filename || "" });
      const open = h("button", { type: "button", class: "link", dir: "auto", onclick: () => void openMaterial(project, hit.id).catch((error: unknown) => (this.status.textContent = featureErrorText(error))) }, label);
      return h("li", {}, open, snippet, meta);
    }
    const [where, href] =
      hit.kind === "chat"
        ? [t("forums.hit_chat", { channel: titleOf(this.client.channels, hit.channel ?? "") }), `#/p/${project}/chat/${encodeURIComponent(hit.channel ?? "")}`]
        : hit.kind === "forum"
          ? [t("forums.hit_forum", { thread: hit.thread_title ?? "" }), `#/p/${project}/forums/t${hit.thread_id}`]
          : hit.kind === "page"
            ? [t("forums.hit_page", { title: hit.title ?? "" }), `#/p/${project}/pages/${hit.id}`]
            : hit.kind === "document"
              ? [t("forums.hit_document", { title: hit.title ?? "" }), `#/p/${project}/documents/${hit.id}`]
              : hit.kind === "journal"
                ? [t("forums.hit_journal"), `#/p/${project}/journal`]
                : [t("forums.hit_bulletin"), `#/p/${project}/bulletin`];
    return h("li", {}, h("a", { href, dir: "auto" }, where), snippet, meta);
  }
}
