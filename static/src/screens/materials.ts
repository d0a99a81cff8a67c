/**
 * Materials: `#/p/<id>/materials` lists the albums and folders (with, for teachers, the review
 * queue, the pupils' upload setting and the form for a new album or folder);
 * `#/p/<id>/materials/<collection id>` shows one with its uploads and a grid that opens the
 * viewer. Both follow the materials streams live; a pupil's own upload waiting for review shows
 * only to them and the teachers (the server decides, the overview says).
 */

import "./materials.css";
import { arrange, h, replace } from "../dom";
import { formatDateTime, t } from "../i18n";
import type { RoomClient } from "../hub/room_client";
import type { Frame } from "../hub/socket";
import { type Collection, type Material, type Overview, linksOf, materials } from "../materials/api";
import { materialsFeedFor } from "../materials/feed";
import { uploadsOf } from "../materials/uploads";
import { featureErrorText } from "./feature_errors";
import type { Names, RoomFeature } from "./features";
import { keepFocus } from "./focus";
import { collectionEditor, moveButtons } from "./material_manage";
import { collectionForm, reviewPanel } from "./material_review";
import { UploadPanel } from "./material_upload";
import { openViewer } from "./material_viewer";
import { PUPIL_ROLES } from "./names";

type Listed = Collection & { materials: Material[] };

/** What the parts of the screen need of it. */
export interface MaterialsHost {
  readonly client: RoomClient;
  readonly names: Names;
  readonly status: HTMLElement;
  readonly notice: HTMLElement;
  reload(): Promise<void>;
}

export class MaterialsView implements RoomFeature, MaterialsHost {
  private overview: Overview | null = null;
  private queue: Material[] = [];
  readonly status = h("p", { class: "form-error", role: "alert" });
  readonly notice = h("p", { class: "notice", role: "status" });
  private readonly body = h("div", { class: "materials" });
  private readonly stopFeed: () => void;
  private readonly stopUploads: () => void;
  private panel: UploadPanel | null = null;
  /** Made once per language, so a title being typed survives live updates. */
  private form: HTMLElement | null = null;
  private editor: { id: number; element: HTMLElement } | null = null;
  /** The newest version seen of each material, from pushes and REST alike. */
  private readonly seen = new Map<number, number>();
  /** Reloads may overlap (an approval, a resync): only the latest one's answer is kept, and
   * the pushes that arrived while it was on its way are applied again on top of it. */
  private generation = 0;
  private during: Frame[] = [];

  constructor(
    readonly key: string,
    private readonly host: HTMLElement,
    readonly client: RoomClient,
    private readonly collectionId: number | null,
    readonly names: Names,
  ) {
    const feed = materialsFeedFor(client);
    this.stopFeed = feed.on((event) => {
      if (event.kind === "reload") {
        void this.reload();
        return;
      }
      this.during.push(event.frame);
      this.apply(event.frame);
    });
    const uploads = uploadsOf(client.projectId);
    uploads.onFinished = () => void this.reload();
    this.stopUploads = () => (uploads.onFinished = () => undefined);
    this.refresh();
    void feed.ready.then(() => this.reload());
  }

  refresh(): void {
    replace(this.host, this.status, this.notice, this.body);
    this.panel?.detach();
    this.panel = null;
    this.form = null;
    this.editor = null;
    this.render();
  }

  detach(): void {
    this.stopFeed();
    this.stopUploads();
    this.panel?.detach();
  }

  async reload(): Promise<void> {
    const ticket = ++this.generation;
    this.during = [];
    try {
      const overview = await materials.overview(this.client.projectId);
      const queue = this.client.can("materials.review") ? (await materials.reviewQueue(this.client.projectId)).materials : [];
      if (ticket !== this.generation) return;
      this.overview = overview;
      this.queue = queue;
      // What REST says is the base; the pushes that came meanwhile apply on top where newer.
      this.seen.clear();
      for (const m of [...queue, ...overview.collections.flatMap((c) => c.materials)]) this.saw(m);
      for (const frame of this.during.splice(0)) this.apply(frame, false);
      this.render();
    } catch (error) {
      this.status.textContent = featureErrorText(error);
    }
  }

  /** True when `material` is newer than anything seen of it. */
  private saw(material: Material): boolean {
    if ((this.seen.get(material.id) ?? -1) >= material.version) return false;
    this.seen.set(material.id, material.version);
    return true;
  }

  /** A live change: applied in place, unless a newer state of it is held. */
  private apply(frame: Frame, draw = true): void {
    const overview = this.overview;
    const material = frame.material as Material | undefined;
    const collection = frame.collection as Collection | undefined;
    if (!overview) return;
    if (collection) {
      const held = overview.collections.find((c) => c.id === collection.id);
      if (held) Object.assign(held, collection);
      else overview.collections.push({ ...collection, materials: [] });
      overview.collections.sort((a, b) => a.position - b.position || a.id - b.id);
    }
    if (material && this.saw(material)) {
      this.queue = this.queue.filter((m) => m.id !== material.id);
      if (material.status === "pending") this.queue.push(material);
      for (const listed of overview.collections) {
        listed.materials = listed.materials.filter((m) => m.id !== material.id);
      }
      const target = overview.collections.find((c) => c.id === material.collection_id);
      if (target && (material.status === "approved" || material.status === "pending") && frame.type !== "materials.material.deleted") {
        target.materials.push(material);
        target.materials.sort((a, b) => a.position - b.position || a.id - b.id);
      }
    }
    if (draw) this.render();
  }

  private render(): void {
    keepFocus(this.body, () => {
      const overview = this.overview;
      if (!overview) {
        replace(this.body, h("h1", {}, t("nav.materials")), h("p", { role: "status" }, t("common.loading")));
        return;
      }
      const open = overview.collections.find((c) => c.id === this.collectionId);
      if (this.collectionId !== null && open) this.renderCollection(open);
      else this.renderOverview(overview);
    });
  }

  private renderOverview(overview: Overview): void {
    this.panel?.detach();
    this.panel = null;
    const p = this.client.projectId;
    const cards = overview.collections.map((c) =>
      h(
        "li",
        { class: "collection-card" },
        h("a", { href: `#/p/${p}/materials/${c.id}`, "data-control": `collection-${c.id}` }, h("bdi", {}, c.title)),
        h("p", { class: "meta" }, c.kind === "album" ? t("materials.album") : t("materials.folder"), " · ", t("materials.count", { count: c.materials.length })),
        c.description ? h("p", { class: "meta", dir: "auto" }, c.description) : null,
        this.manager
          ? moveButtons(this, overview.collections, c, c.title, (item, position) => materials.changeCollection(p, item.id, { position }))
          : null,
      ),
    );
    arrange(
      this.body,
      h("h1", {}, t("nav.materials")),
      this.client.can("materials.review") ? reviewPanel(this, overview.pupil_uploads, this.queue, (m) => this.view(m, this.queue)) : null,
      h("h2", {}, t("materials.collections")),
      cards.length > 0 ? h("ul", { class: "cards collections" }, ...cards) : h("p", { class: "empty" }, t("materials.none")),
      this.client.can("materials.manage") ? (this.form ??= collectionForm(this)) : null,
    );
  }

  private renderCollection(collection: Listed): void {
    const p = this.client.projectId;
    if (this.panel?.collection.id !== collection.id) {
      this.panel?.detach();
      this.panel = this.mayUpload(collection) ? new UploadPanel(this, collection) : null;
    }
    const items = collection.materials.map((m) => this.tile(m, collection.materials));
    if (this.manager && this.editor?.id !== collection.id) {
      this.editor = { id: collection.id, element: collectionEditor(this, collection) };
    }
    arrange(
      this.body,
      h("p", {}, h("a", { href: `#/p/${p}/materials` }, t("materials.back"))),
      h("h1", {}, h("bdi", {}, collection.title)),
      h("p", { class: "meta" }, collection.kind === "album" ? t("materials.album") : t("materials.folder")),
      collection.description ? h("p", { dir: "auto" }, collection.description) : null,
      this.manager ? (this.editor?.element ?? null) : null,
      this.panel?.element ?? null,
      items.length > 0 ? h("ul", { class: "material-grid" }, ...items) : h("p", { class: "empty" }, t("materials.empty_collection")),
    );
  }

  private get manager(): boolean {
    return this.client.can("materials.manage");
  }

  /** Pupils upload where the project's setting and the album or folder allow it. */
  private mayUpload(collection: Collection): boolean {
    if (!this.client.can("materials.upload")) return false;
    if (!(PUPIL_ROLES as readonly string[]).includes(this.client.role)) return true;
    return this.overview?.pupil_uploads !== "off" && collection.pupils_may_upload;
  }

  private tile(material: Material, all: Material[]): HTMLElement {
    const label = material.title || material.filename;
    return h(
      "li",
      { class: `material-tile ${material.status}` },
      h(
        "button",
        { type: "button", class: "tile-open", "data-control": `material-${material.id}`, onclick: () => this.view(material, all) },
        preview(this.client.projectId, material, "small"),
        h("span", { class: "tile-title" }, h("bdi", {}, label)),
        material.status === "pending" ? h("span", { class: "tag" }, t("materials.pending")) : null,
      ),
      this.manager
        ? moveButtons(this, all, material, label, (item, position) => materials.changeMaterial(this.client.projectId, item.id, { position }))
        : null,
    );
  }

  private view(material: Material, all: Material[]): void {
    openViewer(this, all, all.indexOf(material));
  }
}

/** A thumbnail (images, video posters) or the kind of a material, through a signed link. */
export function preview(projectId: number, material: Material, size: "small" | "large"): HTMLElement {
  const variant = material.kind === "image" ? size : material.kind === "video" ? "poster" : null;
  if (!variant || !material.variants.includes(variant)) {
    // Audio shows a note; a file its extension (PDF, ZIP), which says more than any icon.
    const extension = /\.([a-z0-9]{1,5})$/i.exec(material.filename)?.[1].toUpperCase() ?? "";
    return h("span", { class: `kind-icon kind-${material.kind}`, "aria-hidden": "true" }, material.kind === "audio" ? "♪" : extension);
  }
  const image = h("img", { alt: "", class: "thumb", loading: "lazy", width: material.width ?? undefined, height: material.height ?? undefined });
  void linksOf(projectId, material)
    .then((links) => (image.src = links[variant]))
    .catch(() => undefined);
  return image;
}

export function byline(names: Names, material: Material): string {
  return t("materials.by", { name: names.nameOf(material.uploader_id), date: formatDateTime(material.created_at) });
}
