/**
 * Live forum and bulletin changes over the room's hub socket (`forum.subscribe`), resumed from
 * the last seq held (`hub/stream_feed.ts`), plus the reports moderators are told of live.
 */

import type { Frame } from "../hub/socket";
import type { RoomClient } from "../hub/room_client";
import { StreamFeed, type StreamEvent, oneFeedPer } from "../hub/stream_feed";

export type Stream = "forum" | "bulletin";

export type FeedEvent = StreamEvent<Stream> | { kind: "reported"; stream: Stream; postId: number; reason: string };

export class ForumFeed extends StreamFeed<Stream, Extract<FeedEvent, { kind: "reported" }>> {
  constructor(client: RoomClient) {
    super(client, { subscribe: "forum.subscribe", resync: "forum.resync", read: { forum: "forum.read", bulletin: "bulletin.read" } });
  }

  protected override other(frame: Frame): boolean {
    if (frame.type !== "forum.reported") return false;
    // Sent to the moderators online: the page holding the post tells them.
    this.emit({ kind: "reported", stream: frame.board as Stream, postId: frame.post_id as number, reason: frame.reason as string });
    return true;
  }
}

/** One feed per room socket, kept while the person moves between forum pages. */
export const feedFor = oneFeedPer((client) => new ForumFeed(client));
