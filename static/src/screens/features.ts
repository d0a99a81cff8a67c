/**
 * The room's feature pages beyond chat (video, forums, bulletin, search, what's new): which
 * page a route opens, if the person may see it. `room.ts` keeps one open at a time.
 */

import "./features.css";
import type { RoomClient } from "../hub/room_client";
import { ActivityView } from "./activity";
import { BulletinView } from "./bulletin";
import { ForumView, ForumsView } from "./forums";
import { JournalView } from "./journal";
import { MaterialsView } from "./materials";
import { PagesView } from "./pages";
import { SearchView } from "./search";
import { ShowcaseView } from "./showcase";
import { ThreadView } from "./thread";
import { VideoView } from "./video";

/** An open page: `refresh` redraws it in place (language change), `detach` closes it. */
export interface RoomFeature {
  readonly key: string;
  refresh(): void;
  detach(): void;
}

export interface Names {
  nameOf(userId: number): string;
  knows(userId: number): boolean;
  /** A teacher account (any teacher role): their messages among pupils carry a staff mark. */
  isStaff(userId: number): boolean;
  loadMembers(): Promise<void>;
}

export function openFeature(view: string, ref: string | null, host: HTMLElement, client: RoomClient, names: Names): RoomFeature | null {
  const key = `${view}/${ref ?? ""}`;
  if (view === "video" && client.can("video.join")) {
    // "In a video call" only once seated: the video page sets it itself.
    client.setLocation({ kind: "home" });
    return new VideoView(key, host, client, names);
  }
  if (view === "forums" && client.can("forum.read")) {
    client.setLocation({ kind: "forum", ref: ref ?? null });
    if (ref && /^t\d+$/.test(ref)) return new ThreadView(key, host, client, Number(ref.slice(1)), names);
    if (ref && /^\d+$/.test(ref)) return new ForumView(key, host, client, Number(ref), names);
    return new ForumsView(key, host, client);
  }
  if (view === "bulletin" && client.can("bulletin.read")) {
    client.setLocation({ kind: "home" });
    return new BulletinView(key, host, client, names);
  }
  if (view === "pages" && client.can("page.read")) {
    client.setLocation({ kind: "home" });
    return new PagesView(key, host, client, ref && /^\d+$/.test(ref) ? Number(ref) : null);
  }
  if (view === "journal" && client.can("journal.read")) {
    client.setLocation({ kind: "home" });
    return new JournalView(key, host, client, names);
  }
  if (view === "materials" && client.can("materials.read")) {
    client.setLocation({ kind: "home" });
    return new MaterialsView(key, host, client, ref && /^\d+$/.test(ref) ? Number(ref) : null, names);
  }
  if (view === "showcase" && client.can("showcase.manage")) {
    client.setLocation({ kind: "home" });
    return new ShowcaseView(key, host, client);
  }
  if (view === "search") {
    client.setLocation({ kind: "home" });
    return new SearchView(key, host, client, ref, names);
  }
  if (view === "activity") {
    client.setLocation({ kind: "home" });
    return new ActivityView(key, host, client);
  }
  return null;
}
