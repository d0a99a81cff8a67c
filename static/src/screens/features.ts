/**
 * The room's feature pages beyond chat (video, forums, bulletin, search, what's new): which
 * page a route opens, if the person may see it. `room.ts` keeps one open at a time.
 */

import "./features.css";
import type { RoomClient } from "../hub/room_client";
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
  loadMembers(): Promise<void>;
}

export function openFeature(view: string, ref: string | null, host: HTMLElement, client: RoomClient, names: Names): RoomFeature | null {
  const key = `${view}/${ref ?? ""}`;
  if (view === "video" && client.can("video.join")) {
    client.setLocation({ kind: "video" });
    return new VideoView(key, host, client);
  }
  void names;
  return null;
}
