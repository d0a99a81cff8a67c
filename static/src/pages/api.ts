/** Pages, the journal and the showcase settings over REST (docs/PROTOCOL.md "Pages, journal and showcase"). */

import { call } from "../api";
import type { Attached } from "../materials/api";

export interface PageInfo {
  id: number;
  parent_id: number | null;
  position: number;
  title: string;
  state: "draft" | "published";
  visibility: "all" | "teachers";
  document_id: number;
}

export type EmbedKind = "material" | "document" | "thread" | "message";

/** An embed the server resolved for me (docs/PROTOCOL.md, "Embeds"). */
export interface Embed {
  kind: EmbedKind;
  ref: string;
  title: string;
  media: "image" | "video" | "audio" | "file" | null;
  target: string | null;
}


export interface JournalPost {
  id: number;
  parent_id: number | null;
  author_id: number;
  author: string;
  body: string;
  html: string;
  state: "published" | "review";
  pinned: boolean;
  version: number;
  likes: number[];
  comment_count: number;
  created_at: string;
  edited_at: string | null;
  deleted: { by: number; at: string } | null;
  materials: Attached[];
}

export interface Publishing {
  pupil_posts: "off" | "review" | "open";
  slug: string | null;
  showcase_on: boolean;
  indexable: boolean;
  pupil_names: "first_name" | "none";
  languages: string[];
  pages: number[];
  posts: number[];
  url: string | null;
}

const room = (id: number) => `/api/projects/${id}`;

export const pagesApi = {
  list: (p: number) => call<{ pages: PageInfo[] }>("GET", `${room(p)}/pages`),
  get: (p: number, id: number) => call<PageInfo & { document: string }>("GET", `${room(p)}/pages/${id}`),
  create: (p: number, title: string, parentId: number | null) =>
    call<PageInfo>("POST", `${room(p)}/pages`, { title, parent_id: parentId }),
  update: (p: number, id: number, fields: Partial<Pick<PageInfo, "title" | "parent_id" | "position" | "state" | "visibility">>) =>
    call<PageInfo>("PATCH", `${room(p)}/pages/${id}`, fields),
  remove: (p: number, id: number) => call<unknown>("DELETE", `${room(p)}/pages/${id}`),
  read: (p: number, id: number) => call<unknown>("POST", `${room(p)}/pages/${id}/read`),
  embed: (p: number, kind: EmbedKind, ref: string) =>
    call<Embed>("GET", `${room(p)}/pages/embeds/${kind}/${encodeURIComponent(ref)}`),
};

/** Posts per page of the journal: the newest 50, then "Show older posts". */
export const JOURNAL_PAGE = 50;

export const journalApi = {
  list: (p: number, before: number | null = null) =>
    call<{ pinned: JournalPost[]; posts: JournalPost[]; next_before: number | null }>("GET", `${room(p)}/journal?limit=${JOURNAL_PAGE}${before === null ? "" : `&before=${before}`}`),
  post: (p: number, body: string, materials: number[] = []) => call<JournalPost>("POST", `${room(p)}/journal`, { body, materials }),
  patch: (p: number, id: number, fields: { body?: string; materials?: number[]; pinned?: boolean; approved?: true }) =>
    call<JournalPost>("PATCH", `${room(p)}/journal/${id}`, fields),
  remove: (p: number, id: number) => call<unknown>("DELETE", `${room(p)}/journal/${id}`),
  comments: (p: number, id: number) => call<{ comments: JournalPost[] }>("GET", `${room(p)}/journal/${id}/comments`),
  comment: (p: number, id: number, body: string) => call<JournalPost>("POST", `${room(p)}/journal/${id}/comments`, { body }),
  like: (p: number, id: number, on: boolean) => call<JournalPost>("POST", `${room(p)}/journal/${id}/like`, { on }),
  read: (p: number, id: number) => call<unknown>("POST", `${room(p)}/journal/read`, { post_id: id }),
};

export const publishingApi = {
  get: (p: number) => call<Publishing>("GET", `${room(p)}/publishing`),
  update: (p: number, fields: Partial<Omit<Publishing, "url">>) => call<Publishing>("PATCH", `${room(p)}/publishing`, fields),
  unpublish: (p: number) => call<unknown>("DELETE", `${room(p)}/showcase`),
};
