/** Materials over REST (docs/PROTOCOL.md "Materials"): albums, folders, review, signed links. */

import { call, send } from "../api";

export type CollectionKind = "album" | "folder";
export type MaterialKind = "image" | "video" | "audio" | "file";
export type PupilUploads = "off" | "review" | "open";

export interface Material {
  id: number;
  collection_id: number;
  kind: MaterialKind;
  title: string;
  description: string;
  filename: string;
  mime: string;
  size: number;
  width: number | null;
  height: number | null;
  duration: number | null;
  variants: string[];
  status: "approved" | "pending" | "rejected" | "deleted";
  position: number;
  uploader_id: number;
  version: number;
  created_at: string;
}

/**
 * A material attached to a journal post, forum post or chat message (PROTOCOL.md "Attached
 * materials"): once rejected or removed it stays in its place, unavailable, with no kind or title.
 */
export type Attached = { id: number; kind: MaterialKind; title: string; available: true } | { id: number | null; kind: null; title: null; available: false };

/** An attachment that can be drawn. */
export type Available = Extract<Attached, { available: true }>;

export interface Collection {
  id: number;
  kind: CollectionKind;
  title: string;
  description: string;
  position: number;
  pupils_may_upload: boolean;
}

export interface Overview {
  pupil_uploads: PupilUploads;
  collections: (Collection & { materials: Material[] })[];
}

/** Where a finished upload went (not tus): processing, done with its material, or failed. */
export interface UploadStatus {
  id: string;
  status: "open" | "complete" | "done" | "failed";
  offset: number;
  length: number;
  error: string | null;
  material_id: number | null;
}

const base = (p: number) => `/api/projects/${p}/materials`;

export const materials = {
  overview: (p: number) => call<Overview>("GET", base(p)),
  createCollection: (p: number, kind: CollectionKind, title: string, description: string, pupilsMayUpload: boolean) =>
    call<Collection>("POST", `${base(p)}/collections`, { kind, title, description, pupils_may_upload: pupilsMayUpload }),
  changeCollection: (p: number, id: number, change: Partial<Pick<Collection, "title" | "description" | "position" | "pupils_may_upload">>) =>
    call<Collection>("PATCH", `${base(p)}/collections/${id}`, change),
  changeMaterial: (p: number, id: number, change: Partial<Pick<Material, "title" | "description" | "position">>) =>
    call<Material>("PATCH", `${base(p)}/${id}`, change),
  setPupilUploads: (p: number, value: PupilUploads) => call<{ pupil_uploads: PupilUploads }>("PUT", `${base(p)}/settings`, { pupil_uploads: value }),
  reviewQueue: (p: number) => call<{ materials: Material[] }>("GET", `${base(p)}/review`),
  review: (p: number, id: number, verdict: "approve" | "reject") => call<Material>("POST", `${base(p)}/${id}/review`, { verdict }),
  remove: (p: number, id: number) => send("DELETE", `${base(p)}/${id}`),
  report: (p: number, id: number, reason: string) => send("POST", `${base(p)}/${id}/report`, { reason }),
  links: (p: number, id: number) => call<{ expires_in: number; variants: Record<string, string> }>("GET", `${base(p)}/${id}/links`),
  uploadStatus: (location: string) => call<UploadStatus>("GET", `${location}/status`),
  /** The materials added so far are seen: they leave "What's new". */
  read: (p: number) => call<unknown>("POST", `${base(p)}/read`),
};

/** Signed links expire (PROTOCOL.md): each material's are kept until a little before then. */
const links = new Map<string, { until: number; variants: Record<string, string> }>();

export async function linksOf(p: number, material: Material): Promise<Record<string, string>> {
  const key = `${p}:${material.id}:${material.version}`;
  const held = links.get(key);
  if (held && held.until > Date.now()) return held.variants;
  const fresh = await materials.links(p, material.id);
  links.set(key, { until: Date.now() + fresh.expires_in * 800, variants: fresh.variants });
  return fresh.variants;
}

/** The variant shown when a material is opened: the image, the video or sound, or the file. */
const OPEN_FIRST = ["display", "media", "file", "large", "small", "poster"];

/** Opens a material the member may see in a new tab, through a fresh signed link (search and
 * "What's new" link materials by id alone). */
export async function openMaterial(p: number, id: number): Promise<void> {
  const { variants } = await materials.links(p, id);
  const variant = OPEN_FIRST.find((name) => variants[name]) ?? Object.keys(variants)[0];
  if (variant) window.open(variants[variant], "_blank", "noopener");
}
