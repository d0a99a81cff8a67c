/**
 * The menu of pages and the journal, live over the room's hub socket (`pages.subscribe`,
 * `journal.subscribe`: the forum stream machinery on the server). Each menu push carries the
 * whole menu as this member's audience sees it, so the menu is simply replaced; journal pushes
 * tell the open journal to update. After a reconnect both resume from the last seq held; when
 * the server cannot replay (or the member's audience changed), views reload by REST.
 */

import type { Frame } from "../hub/socket";
import type { RoomClient } from "../hub/room_client";
import type { JournalPost, PageInfo } from "./api";

export type LiveEvent =
  | { kind: "menu"; menu: PageInfo[] }
  | { kind: "post"; type: string; post: JournalPost }
  | { kind: "reload"; stream: "pages" | "journal" };

type Name = "pages" | "journal";
const READ: Record<Name, string> = { pages: "page.read", journal: "journal.read" };

export class PagesFeed {
  private readonly last = new Map<Name, number>();
  private readonly listeners = new Set<(event: LiveEvent) => void>();

  constructor(private readonly client: RoomClient) {
    client.extend({ resumed: () => this.subscribe(false), push: (frame) => this.onPush(frame) });
    client.on((event) => {
      // A role change may change the audience, which ends the subscription: start afresh.
      if (event.kind === "permissions") void this.subscribe(true);
    });
  }

  on(listener: (event: LiveEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async subscribe(fresh: boolean): Promise<void> {
    for (const name of ["pages", "journal"] as Name[]) {
      if (!this.client.can(READ[name])) {
        this.last.delete(name);
        continue;
      }
      const held = fresh ? undefined : this.last.get(name);
      try {
        const ack = await this.client.request(`${name}.subscribe`, { since: held ?? null });
        this.last.set(name, ack.last_seq as number);
        if (held === undefined || !ack.recovered) this.emit({ kind: "reload", stream: name });
      } catch {
        // The socket went away: `resumed` subscribes again.
      }
    }
  }

  private onPush(frame: Frame): void {
    if (frame.type === "pages.resync" || frame.type === "journal.resync") {
      const name = frame.type.split(".")[0] as Name;
      this.last.delete(name);
      void this.subscribe(false);
      return;
    }
    const name = frame.type.startsWith("pages.") ? "pages" : frame.type.startsWith("journal.") ? "journal" : null;
    if (!name || typeof frame.seq !== "number") return;
    this.last.set(name, Math.max(this.last.get(name) ?? 0, frame.seq));
    if (name === "pages") this.emit({ kind: "menu", menu: frame.menu as PageInfo[] });
    else this.emit({ kind: "post", type: frame.type, post: frame.post as JournalPost });
  }

  private emit(event: LiveEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}

const feeds = new WeakMap<RoomClient, PagesFeed>();

/** One feed per room socket, kept while the person moves between pages and the journal. */
export function pagesFeedFor(client: RoomClient): PagesFeed {
  let feed = feeds.get(client);
  if (!feed) {
    feed = new PagesFeed(client);
    feeds.set(client, feed);
  }
  return feed;
}
