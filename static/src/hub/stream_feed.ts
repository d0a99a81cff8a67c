/**
 * Numbered streams over the room's hub socket (PROTOCOL.md "Live updates and resume"): the
 * forum and bulletin, the materials and their review queue. Each stream keeps the highest `seq`
 * up to which this client holds every change; pushes may arrive slightly out of order, so later
 * ones wait until the gap fills. After a reconnect it resumes from there; when the server cannot
 * replay, views reload by REST. One class, so every feature resumes the same way.
 */

import type { Frame } from "./socket";
import type { RoomClient } from "./room_client";

export type StreamEvent<S extends string> =
  | { kind: "change"; stream: S; frame: Frame }
  | { kind: "reload"; stream: S };

/** How one feature names its subscription: the request, the resync push, and each stream's permission. */
export interface StreamSpec<S extends string> {
  subscribe: string;
  resync: string;
  read: Record<S, string>;
}

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

export class StreamFeed<S extends string, E = never> {
  private readonly cursors = new Map<S, StreamCursor>();
  private readonly listeners = new Set<(event: StreamEvent<S> | E) => void>();
  /** Settles after the first subscription: views load by REST only then, so no change falls between. */
  readonly ready: Promise<void>;

  constructor(
    protected readonly client: RoomClient,
    private readonly spec: StreamSpec<S>,
  ) {
    let settle: () => void = () => undefined;
    this.ready = new Promise((resolve) => (settle = resolve));
    client.extend({ resumed: () => this.subscribe().finally(settle), push: (frame) => this.onPush(frame) });
    client.on((event) => {
      // A role change ends a stream's subscription; one regained is subscribed again.
      if (event.kind === "permissions") this.subscribe().catch(() => undefined);
    });
  }

  on(listener: (event: StreamEvent<S> | E) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private streams(): S[] {
    return Object.keys(this.spec.read) as S[];
  }

  /** Subscribes every stream I may read from where I am (or live, the first time). */
  private async subscribe(only: S[] = this.streams()): Promise<void> {
    const streams: Record<string, number | null> = {};
    for (const stream of only) {
      if (!this.client.can(this.spec.read[stream])) {
        this.cursors.delete(stream);
        continue;
      }
      streams[stream] = this.cursors.get(stream)?.value ?? null;
    }
    if (Object.keys(streams).length === 0) return;
    const ack = await this.client.request(this.spec.subscribe, { streams });
    const results = ack.streams as Record<S, { recovered: boolean; last_seq: number }>;
    for (const [name, result] of Object.entries(results) as [S, { recovered: boolean; last_seq: number }][]) {
      const held = this.cursors.get(name);
      if (!held || !result.recovered) {
        this.cursors.set(name, new StreamCursor(result.last_seq));
        // Held views were loaded before or missed changes: they read again.
        if (held) this.emit({ kind: "reload", stream: name });
      }
    }
  }

  /** A push of this feature that is not a numbered change; true when handled. */
  protected other(_frame: Frame): boolean {
    return false;
  }

  private onPush(frame: Frame): void {
    if (frame.type === this.spec.resync) {
      const stream = frame.stream as S;
      if (frame.reason === "catch_up_failed") {
        this.subscribe([stream]).catch(() => undefined);
      } else {
        this.cursors.delete(stream);
        this.subscribe([stream]).catch(() => undefined);
        this.emit({ kind: "reload", stream });
      }
      return;
    }
    if (this.other(frame)) return;
    const stream = frame.stream as S | undefined;
    if (stream === undefined || !Object.hasOwn(this.spec.read, stream)) return;
    if (typeof frame.seq === "number") this.cursors.get(stream)?.saw(frame.seq);
    this.emit({ kind: "change", stream, frame });
  }

  protected emit(event: StreamEvent<S> | E): void {
    for (const listener of this.listeners) listener(event);
  }
}

/** One feed of a kind per room socket, kept while the person moves between its pages. */
export function oneFeedPer<F>(make: (client: RoomClient) => F): (client: RoomClient) => F {
  const feeds = new WeakMap<RoomClient, F>();
  return (client) => {
    let feed = feeds.get(client);
    if (!feed) {
      feed = make(client);
      feeds.set(client, feed);
    }
    return feed;
  };
}
