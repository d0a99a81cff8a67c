/**
 * Live forum and bulletin changes over the room's hub socket (`forum.subscribe`, PROTOCOL.md
 * "Live updates and resume"). Each stream keeps the highest `seq` up to which this client holds
 * every change; pushes may arrive slightly out of order, so later ones wait until the gap fills.
 * After a reconnect it resumes from there; when the server cannot replay, views reload by REST.
 */

import type { Frame } from "../hub/socket";
import type { RoomClient } from "../hub/room_client";

export type Stream = "forum" | "bulletin";

export type FeedEvent =
  | { kind: "change"; stream: Stream; frame: Frame }
  | { kind: "reload"; stream: Stream }
  | { kind: "reported"; stream: Stream; postId: number; reason: string };

const READ_PERMISSION: Record<Stream, string> = { forum: "forum.read", bulletin: "bulletin.read" };

/** The highest seq up to which every change is held, and the ones seen beyond a gap. */
class StreamCursor {
  private ahead = new Set<number>();

  constructor(public value: number) {}

  saw(seq: number): void {
    if (seq <= this.value) return;
    this.ahead.add(seq);
    while (this.ahead.delete(this.value + 1)) this.value += 1;
  }
}

export class ForumFeed {
  private readonly cursors = new Map<Stream, StreamCursor>();
  private readonly listeners = new Set<(event: FeedEvent) => void>();
  /** Settles after the first subscription: views load by REST only then, so no change falls between. */
  readonly ready: Promise<void>;

  constructor(private readonly client: RoomClient) {
    let settle: () => void = () => undefined;
    this.ready = new Promise((resolve) => (settle = resolve));
    client.extend({ resumed: () => this.subscribe().finally(settle), push: (frame) => this.onPush(frame) });
    client.on((event) => {
      // A role change ends a stream's subscription; one regained is subscribed again.
      if (event.kind === "permissions") this.subscribe().catch(() => undefined);
    });
  }

  on(listener: (event: FeedEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Subscribes every stream I may read from where I am (or live, the first time). */
  private async subscribe(only: Stream[] = ["forum", "bulletin"]): Promise<void> {
    const streams: Record<string, number | null> = {};
    for (const stream of only) {
      if (!this.client.can(READ_PERMISSION[stream])) {
        this.cursors.delete(stream);
        continue;
      }
      streams[stream] = this.cursors.get(stream)?.value ?? null;
    }
    if (Object.keys(streams).length === 0) return;
    const ack = await this.client.request("forum.subscribe", { streams });
    const results = ack.streams as Record<Stream, { recovered: boolean; last_seq: number }>;
    for (const [name, result] of Object.entries(results) as [Stream, { recovered: boolean; last_seq: number }][]) {
      const held = this.cursors.get(name);
      if (!held || !result.recovered) {
        this.cursors.set(name, new StreamCursor(result.last_seq));
        // Held views were loaded before or missed changes: they read again.
        if (held) this.emit({ kind: "reload", stream: name });
      }
    }
  }

  private onPush(frame: Frame): void {
    if (frame.type === "forum.resync") {
      const stream = frame.stream as Stream;
      if (frame.reason === "catch_up_failed") {
        this.subscribe([stream]).catch(() => undefined);
      } else {
        this.cursors.delete(stream);
        this.subscribe([stream]).catch(() => undefined);
        this.emit({ kind: "reload", stream });
      }
      return;
    }
    if (frame.type === "forum.reported") {
      // Sent to the moderators online: the page holding the post tells them.
      this.emit({ kind: "reported", stream: frame.board as Stream, postId: frame.post_id as number, reason: frame.reason as string });
      return;
    }
    const stream = frame.stream as Stream | undefined;
    if (stream !== "forum" && stream !== "bulletin") return;
    this.cursors.get(stream)?.saw(frame.seq as number);
    this.emit({ kind: "change", stream, frame });
  }

  private emit(event: FeedEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}

const feeds = new WeakMap<RoomClient, ForumFeed>();

/** One feed per room socket, kept while the person moves between forum pages. */
export function feedFor(client: RoomClient): ForumFeed {
  let feed = feeds.get(client);
  if (!feed) {
    feed = new ForumFeed(client);
    feeds.set(client, feed);
  }
  return feed;
}
