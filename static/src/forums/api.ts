/** Forums, bulletin, search and activity over REST (docs/PROTOCOL.md, "Forums, bulletin and search"). */

import { call } from "../api";
import type { Attached } from "../materials/api";

export interface Forum {
  id: number;
  title: string;
  description: string;
  position: number;
}

export interface Thread {
  id: number;
  forum_id: number;
  title: string;
  author_id: number;
  pinned: boolean;
  locked: boolean;
  post_count: number;
  last_post_seq: number;
  version: number;
  created_at: string;
}

export interface Post {
  id: number;
  board: "forum" | "bulletin";
  thread_id: number | null;
  seq: number;
  version: number;
  author_id: number;
  body: string;
  html: string;
  reply_to: number | null;
  created_at: string;
  edited_at: string | null;
  deleted: { by: number; at: string } | null;
  reactions: Record<string, number[]>;
  /** Forum posts only: bulletin posts carry none. */
  materials: Attached[];
}

export interface Hit {
  kind: "chat" | "forum" | "bulletin" | "page" | "journal" | "document" | "material";
  id: number;
  created_at: string;
  author_id: number;
  snippet: string;
  thread_id: number | null;
  thread_title: string | null;
  channel: string | null;
  seq: number | null;
  title?: string | null;
  parent_id?: number | null;
  /** A material's file name and kind (image, video, audio, file). */
  filename?: string | null;
  media?: string | null;
}

export interface Activity {
  chat: Record<string, number>;
  threads: { thread_id: number; forum_id: number; title: string; forum_title: string; unread: number }[];
  forum_unread: number;
  bulletin: number | null;
  journal: number | null;
  pages: number[] | null;
  documents: { id: number; title: string }[] | null;
  materials: { count: number; newest: { id: number; title: string; filename: string; media: string }[] } | null;
}

const room = (id: number) => `/api/projects/${id}`;
const page = (name: string, value: number | null) => (value === null ? "" : `&${name}=${value}`);

export const boards = {
  forums: (p: number) => call<{ forums: Forum[] }>("GET", `${room(p)}/forums`),
  createForum: (p: number, title: string) => call<Forum>("POST", `${room(p)}/forums`, { title }),
  threads: (p: number, forum: number, before: number | null) =>
    call<{ pinned: Thread[]; threads: Thread[]; next_before: number | null }>("GET", `${room(p)}/forums/${forum}/threads?limit=50${page("before", before)}`),
  createThread: (p: number, forum: number, title: string, body: string, materials: number[] = []) =>
    call<{ thread: Thread; post: Post }>("POST", `${room(p)}/forums/${forum}/threads`, { title, body, materials }),
  changeThread: (p: number, thread: number, change: Partial<Pick<Thread, "title" | "pinned" | "locked" | "forum_id">>) =>
    call<Thread>("PATCH", `${room(p)}/threads/${thread}`, change),
  posts: (p: number, thread: number, after: number | null) =>
    call<{ thread: Thread; posts: Post[]; next_after: number | null }>("GET", `${room(p)}/threads/${thread}/posts?limit=100${page("after", after)}`),
  reply: (p: number, thread: number, body: string, replyTo: number | null, materials: number[] = []) =>
    call<Post>("POST", `${room(p)}/threads/${thread}/posts`, replyTo === null ? { body, materials } : { body, reply_to: replyTo, materials }),
  readThread: (p: number, thread: number, seq: number) => call<unknown>("POST", `${room(p)}/threads/${thread}/read`, { seq }),
  bulletin: (p: number, before: number | null) =>
    call<{ posts: Post[]; next_before: number | null }>("GET", `${room(p)}/bulletin?limit=50${page("before", before)}`),
  postBulletin: (p: number, body: string) => call<Post>("POST", `${room(p)}/bulletin`, { body }),
  readBulletin: (p: number, seq: number) => call<unknown>("POST", `${room(p)}/bulletin/read`, { seq }),
  edit: (p: number, post: number, body: string) => call<Post>("PATCH", `${room(p)}/posts/${post}`, { body }),
  remove: (p: number, post: number) => call<Post>("DELETE", `${room(p)}/posts/${post}`),
  react: (p: number, post: number, emoji: string, on: boolean) => call<Post>("POST", `${room(p)}/posts/${post}/reactions`, { emoji, on }),
  report: (p: number, post: number, reason: string) => call<unknown>("POST", `${room(p)}/posts/${post}/report`, { reason }),
  activity: (p: number) => call<Activity>("GET", `${room(p)}/activity`),
  search: (p: number, q: string, cursor: string | null) =>
    call<{ hits: Hit[]; next_cursor: string | null }>("GET", `${room(p)}/search?q=${encodeURIComponent(q)}&limit=20${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`),
};
