/**
 * A page's embeds in the editor: the node view that draws one (an image or a player of a
 * material, a link to a document, thread or chat message), and the "Insert" picker; the
 * drawing of a material, which attached materials share (`screens/attachments.ts`).
 *
 * The document holds only a kind and a ref; each reader asks the server what it points at
 * (`GET /pages/embeds/{kind}/{ref}`), which answers only for this project and only what that
 * reader may see. Anything else is drawn as an "unavailable" placeholder. A material's bytes
 * come through the materials' short-lived signed links, since `<img>` cannot send a token.
 */

import type { Node as PmNode } from "prosemirror-model";
import type { EditorView, NodeView, NodeViewConstructor } from "prosemirror-view";
import { call } from "../api";
import { h, replace, uid } from "../dom";
import type { RoomClient } from "../hub/room_client";
import { type Key, t, tk } from "../i18n";
import { featureErrorText } from "../screens/feature_errors";
import { schema } from "../docs/schema";
import { type Available, materials } from "../materials/api";
import { type Embed, type EmbedKind, pagesApi } from "./api";

interface Titled {
  id: number;
  title: string;
}

/** An attached or embedded material: its image or player (or a download), drawn from signed links. */
export async function materialElements(p: number, material: Available): Promise<HTMLElement[]> {
  const { variants } = await materials.links(p, material.id);
  const caption = h("figcaption", {}, h("bdi", {}, material.title));
  if (material.kind === "image") return [h("img", { src: variants.large ?? variants.display, alt: material.title, loading: "lazy" }), caption];
  if (material.kind === "video") return [h("video", { src: variants.media, poster: variants.poster ?? null, controls: true, preload: "metadata", "aria-label": material.title }), caption];
  if (material.kind === "audio") return [h("audio", { src: variants.media, controls: true, preload: "metadata", "aria-label": material.title }), caption];
  return [h("a", { href: variants.file, download: material.title }, t("pages.embed_download", { title: material.title }))];
}

/** The approved materials a member may attach or embed, as [id, "album · title"]. */
export async function approvedMaterials(p: number): Promise<[string, string][]> {
  const found = await materials.overview(p);
  return found.collections.flatMap((c) =>
    c.materials.filter((m) => m.status === "approved").map((m): [string, string] => [String(m.id), `${c.title} · ${m.title || m.filename}`]),
  );
}

/** The node view of every `embed` node of one open page. */
export function embedViews(client: RoomClient): Record<string, NodeViewConstructor> {
  return { embed: (node) => new EmbedView(client.projectId, node) };
}

class EmbedView implements NodeView {
  readonly dom: HTMLElement;

  constructor(
    private readonly project: number,
    private node: PmNode,
  ) {
    this.dom = h("figure", { class: "embed", contenteditable: "false" }, h("p", { class: "meta" }, t("common.loading")));
    void this.draw();
  }

  update(node: PmNode): boolean {
    if (node.type !== this.node.type) return false;
    const changed = node.attrs.kind !== this.node.attrs.kind || node.attrs.ref !== this.node.attrs.ref;
    this.node = node;
    if (changed) void this.draw();
    return true;
  }

  /** Clicks on a link or a player are the reader's, not the editor's. */
  stopEvent(event: Event): boolean {
    return event.target instanceof Element && event.target.closest("a, video, audio") !== null;
  }

  ignoreMutation(): boolean {
    return true;
  }

  private async draw(): Promise<void> {
    const kind = String(this.node.attrs.kind) as EmbedKind;
    const ref = String(this.node.attrs.ref);
    try {
      const found = await pagesApi.embed(this.project, kind, ref);
      replace(this.dom, ...(await this.content(found)));
      this.dom.classList.remove("embed-unavailable");
    } catch {
      this.dom.classList.add("embed-unavailable");
      replace(this.dom, h("p", { class: "meta", dir: "auto" }, t("pages.embed_unavailable")));
    }
  }

  private async content(found: Embed): Promise<HTMLElement[]> {
    const p = this.project;
    if (found.kind === "document") return [h("a", { href: `#/p/${p}/documents/${found.ref}` }, t("pages.embed_link_document", { title: found.title }))];
    if (found.kind === "thread") return [h("a", { href: `#/p/${p}/forums/t${found.ref}` }, t("pages.embed_link_thread", { title: found.title }))];
    if (found.kind === "message") {
      const channel = found.target ?? "";
      return [h("blockquote", { dir: "auto" }, found.title), h("a", { href: `#/p/${p}/chat/${encodeURIComponent(channel)}` }, t("pages.embed_link_message", { channel }))];
    }
    return materialElements(p, { id: Number(found.ref), kind: found.media ?? "file", title: found.title, available: true });
  }
}

const KINDS: [EmbedKind, Key][] = [
  ["material", tk("pages.embed_material")],
  ["document", tk("pages.embed_document")],
  ["thread", tk("pages.embed_thread")],
  ["message", tk("pages.embed_message")],
];

/** What the picker offers for a kind: [ref, label], the newest first where that matters. */
async function choices(client: RoomClient, kind: EmbedKind): Promise<[string, string][]> {
  const p = client.projectId;
  if (kind === "material") return approvedMaterials(p);
  if (kind === "document") {
    const found = await call<{ documents: Titled[] }>("GET", `/api/projects/${p}/docs`);
    return found.documents.map((d) => [String(d.id), d.title]);
  }
  if (kind === "thread") {
    type Listed = { pinned: Titled[]; threads: Titled[] };
    const { forums } = await call<{ forums: Titled[] }>("GET", `/api/projects/${p}/forums`);
    const found: [string, string][] = [];
    for (const forum of forums) {
      const listed = await call<Listed>("GET", `/api/projects/${p}/forums/${forum.id}/threads?limit=50`);
      for (const thread of [...listed.pinned, ...listed.threads]) found.push([String(thread.id), `${forum.title} · ${thread.title}`]);
    }
    return found;
  }
  const found: [string, string][] = [];
  for (const name of client.channels.keys()) {
    const history = await client.request("chat.history", { channel: name, limit: 20 });
    const messages = (history.messages ?? []) as { seq: number; text: string; deleted: unknown }[];
    for (const m of messages.slice().reverse()) if (!m.deleted) found.push([`${name}:${m.seq}`, `#${name} · ${m.text.slice(0, 60)}`]);
  }
  return found;
}

/** The "Insert" picker: a kind, then one of its objects; the server checks it before it goes in. */
export function pickEmbed(client: RoomClient, view: EditorView): Promise<void> {
  return new Promise((resolve) => {
    const titleId = uid("embed-title");
    const kindId = uid("embed-kind");
    const itemId = uid("embed-item");
    const status = h("p", { class: "form-error", role: "alert" });
    const items = h("select", { id: itemId, required: true });
    const kinds = h("select", { id: kindId }, ...KINDS.map(([kind, label]) => h("option", { value: kind }, t(label))));
    const load = async (): Promise<void> => {
      status.textContent = "";
      replace(items, h("option", { value: "" }, t("common.loading")));
      try {
        const found = await choices(client, kinds.value as EmbedKind);
        replace(items, ...(found.length ? found.map(([ref, label]) => h("option", { value: ref }, label)) : [h("option", { value: "" }, t("pages.embed_none"))]));
      } catch (error) {
        replace(items);
        status.textContent = featureErrorText(error);
      }
    };
    kinds.addEventListener("change", () => void load());
    const dialog = h(
      "dialog",
      { "aria-labelledby": titleId, class: "embed-picker" },
      h(
        "form",
        {
          onsubmit: (event: Event) => {
            event.preventDefault();
            if (!items.value) return;
            const kind = kinds.value as EmbedKind;
            const ref = items.value;
            void pagesApi.embed(client.projectId, kind, ref).then(
              () => {
                const { state } = view;
                view.dispatch(state.tr.replaceSelectionWith(schema.nodes.embed.create({ kind, ref })).scrollIntoView());
                dialog.close();
              },
              (error: unknown) => {
                status.textContent = featureErrorText(error);
              },
            );
          },
        },
        h("h2", { id: titleId }, t("pages.insert_title")),
        h("label", { for: kindId }, t("pages.embed_kind")),
        kinds,
        h("label", { for: itemId }, t("pages.embed_choose")),
        items,
        status,
        h(
          "div",
          { class: "dialog-buttons" },
          h("button", { type: "button", class: "secondary", onclick: () => dialog.close() }, t("common.cancel")),
          h("button", { type: "submit" }, t("pages.insert")),
        ),
      ),
    );
    dialog.addEventListener("close", () => {
      dialog.remove();
      view.focus();
      resolve();
    });
    document.body.append(dialog);
    dialog.showModal();
    kinds.focus();
    void load();
  });
}
