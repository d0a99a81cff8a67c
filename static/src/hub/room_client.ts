/**
 * A project room as the client sees it: the hub socket, the channels and their resume cursors,
 * presence and typing, and the caller's permissions. Screens read it and listen for `changed`.
 */

import { type Frame, HubError, HubSocket, type LinkState } from "./socket";
import { ChannelState, type ChannelInfo, type Message } from "./channel";

export interface PresenceUser {
  user_id: number;
  display_name: string;
  role: string;
  status: "active" | "away";
  devices: { id: string; device: string; status: string; location: Location | null }[];
}

export interface Location {
  kind: "home" | "channel" | "doc" | "video" | "forum";
  ref?: string | null;
}

export type RoomEvent =
  | { kind: "link" }
  | { kind: "channels" }
  | { kind: "messages"; channel: string; created?: Message }
  | { kind: "presence" }
  | { kind: "typing" }
  | { kind: "permissions" }
  | { kind: "paused" }
  | { kind: "ended"; code: number };

const TYPING_SHOWN_MS = 6000;

/**
 * A feature riding on the room's one hub socket (video, forums): it resumes after each
 * (re)connection and receives the pushes the room itself does not handle.
 */
export interface RoomExtension {
  resumed(): Promise<void>;
  push(frame: Frame): void;
}

export class RoomClient {
  readonly channels = new Map<string, ChannelState>();
  readonly presence = new Map<number, PresenceUser>();
  /** user id → channel and when their last `typing` push arrived. */
  readonly typing = new Map<number, { channel: string; name: string; at: number }>();
  link: LinkState = "connecting";
  location: Location = { kind: "home" };
  /** Set by a `chat.paused` push: until when a teacher paused my messages (null: not paused). */
  pausedUntil: Date | null = null;
  selfId = 0;
  private readonly hub: HubSocket;
  private readonly listeners = new Set<(event: RoomEvent) => void>();
  private readonly extensions = new Set<RoomExtension>();
  private typingTimer: number | undefined;

  constructor(
    readonly projectId: number,
    token: string,
    public role: string,
    public status: string,
    public permissions: Set<string>,
  ) {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const url = `${scheme}//${location.host}/ws/projects/${projectId}?token=${encodeURIComponent(token)}`;
    this.hub = new HubSocket(url, {
      opened: () => this.resume(),
      push: (frame) => this.onPush(frame),
      state: (state) => {
        this.link = state;
        this.emit({ kind: "link" });
      },
      ended: (code) => this.emit({ kind: "ended", code }),
    });
    this.hub.start();
  }

  on(listener: (event: RoomEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    window.clearInterval(this.typingTimer);
    this.hub.stop();
    this.listeners.clear();
  }

  /** Adds a feature to this socket; when online it resumes at once. Returns the detach. */
  extend(extension: RoomExtension): () => void {
    this.extensions.add(extension);
    if (this.hub.online) extension.resumed().catch(() => undefined);
    return () => this.extensions.delete(extension);
  }

  get online(): boolean {
    return this.hub.online;
  }

  can(action: string): boolean {
    return this.permissions.has(action);
  }

  request(type: string, fields: Record<string, unknown> = {}): Promise<Frame> {
    return this.hub.request(type, fields);
  }

  /** After each (re)connection: channels, then every channel resumed from its cursor. */
  private async resume(): Promise<void> {
    await this.listChannels();
    const since: Record<string, number> = {};
    for (const [name, state] of this.channels) since[name] = state.cursor;
    await this.subscribe(since);
    await this.refreshUnread();
    await this.hub.request("presence.update", { status: this.visibleStatus(), location: this.location });
    for (const state of this.channels.values()) {
      for (const item of state.outbox) void this.deliver(state, item.key);
    }
    this.watchTyping();
    for (const extension of this.extensions) extension.resumed().catch(() => undefined);
  }

  /** Reads the channels I may read now (with `writable`), keeping what is held of each. */
  private async listChannels(): Promise<void> {
    const listed = await this.hub.request("chat.channels");
    const infos = listed.channels as ChannelInfo[];
    for (const info of infos) {
      const held = this.channels.get(info.name);
      if (held) held.info = info;
      else this.channels.set(info.name, new ChannelState(info));
    }
    for (const name of [...this.channels.keys()]) {
      if (!infos.some((info) => info.name === name)) this.channels.delete(name);
    }
    this.emit({ kind: "channels" });
  }

  /** Subscribes from each cursor; a channel the server cannot replay is reloaded. */
  private async subscribe(since: Record<string, number>): Promise<void> {
    const ack = await this.hub.request("chat.subscribe", { channels: since });
    const results = ack.channels as Record<string, { recovered: boolean }>;
    for (const [name, result] of Object.entries(results)) {
      const state = this.channels.get(name);
      if (state && !result.recovered) await this.reload(state);
    }
  }

  /**
   * The hub announces no new channels: a channel added (or opened to me by a new role) since I
   * connected is found by listing again, when I navigate to it or my role changes.
   */
  async discoverChannels(): Promise<void> {
    const known = new Set(this.channels.keys());
    await this.listChannels();
    const since: Record<string, number> = {};
    for (const [name, state] of this.channels) if (!known.has(name)) since[name] = state.cursor;
    if (Object.keys(since).length > 0) await this.subscribe(since);
  }

  /** Loads the latest page of a channel (on first view, or after the server says reload). */
  async reload(state: ChannelState): Promise<void> {
    state.reset();
    await this.loadOlder(state);
  }

  async loadOlder(state: ChannelState): Promise<void> {
    const fields: Record<string, unknown> = { channel: state.info.name, limit: 50 };
    if (state.loaded && state.messages.size > 0) fields.before = state.oldestSeq();
    const reply = await this.hub.request("chat.history", fields);
    const page = reply.messages as Message[];
    const first = !state.loaded;
    state.loaded = true;
    if (page.length < 50) state.hasOlder = false;
    for (const message of page) state.merge(message, true);
    if (first) state.coveredUpTo(reply.last_seq as number);
    this.emit({ kind: "messages", channel: state.info.name });
  }

  async refreshUnread(): Promise<void> {
    const reply = await this.hub.request("chat.unread");
    const unread = reply.unread as Record<string, number>;
    for (const [name, state] of this.channels) state.unread = unread[name] ?? 0;
    this.emit({ kind: "channels" });
  }

  /** Queues a message in the channel's outbox and sends it; the key makes retries harmless. */
  send(channel: string, text: string, replyTo: number | null, materials: number[] = []): void {
    const state = this.channels.get(channel);
    if (!state) return;
    const key = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
    state.outbox.push({ key, text, reply_to: replyTo, materials, failed: false });
    this.emit({ kind: "messages", channel });
    void this.deliver(state, key);
  }

  private async deliver(state: ChannelState, key: string): Promise<void> {
    const item = state.outbox.find((entry) => entry.key === key);
    if (!item || !this.hub.online) return;
    const fields: Record<string, unknown> = { channel: state.info.name, text: item.text, key };
    if (item.reply_to !== null) fields.reply_to = item.reply_to;
    if (item.materials.length > 0) fields.materials = item.materials;
    try {
      await this.hub.request("chat.send", fields);
      state.outbox.splice(state.outbox.indexOf(item), 1);
    } catch (error) {
      // Offline: the outbox is sent again after the next resume. Refused: shown as failed.
      if (error instanceof HubError && error.code !== "offline") {
        item.failed = true;
        if (error.code === "muted" && error.retryAfter !== null) {
          item.mutedUntil = new Date(Date.now() + error.retryAfter * 1000);
        }
        throw error;
      }
    } finally {
      this.emit({ kind: "messages", channel: state.info.name });
    }
  }

  discard(channel: string, key: string): void {
    const state = this.channels.get(channel);
    if (!state) return;
    const index = state.outbox.findIndex((entry) => entry.key === key);
    if (index >= 0) state.outbox.splice(index, 1);
    this.emit({ kind: "messages", channel });
  }

  markRead(state: ChannelState): void {
    const newest = state.newestSeq();
    if (newest <= state.readSeq || !this.hub.online || document.visibilityState !== "visible") {
      return;
    }
    state.readSeq = newest;
    state.unread = 0;
    this.emit({ kind: "channels" });
    this.hub.request("chat.read", { channel: state.info.name, seq: newest }).catch(() => {
      state.readSeq = 0;
    });
  }

  setLocation(location: Location): void {
    this.location = location;
    if (this.hub.online) {
      this.hub.request("presence.update", { location }).catch(() => undefined);
    }
  }

  setAway(away: boolean): void {
    if (this.hub.online) {
      this.hub.request("presence.update", { status: away ? "away" : "active" }).catch(() => undefined);
    }
  }

  private visibleStatus(): "active" | "away" {
    return document.visibilityState === "visible" ? "active" : "away";
  }

  private onPush(frame: Frame): void {
    switch (frame.type) {
      case "chat.message":
        this.onMessage(frame.change as string, frame.message as Message);
        break;
      case "chat.resync":
        void this.resync(frame.channel as string, frame.reason as string);
        break;
      case "presence.state":
        this.presence.clear();
        for (const user of frame.users as PresenceUser[]) this.presence.set(user.user_id, user);
        this.emit({ kind: "presence" });
        break;
      case "presence.join":
      case "presence.update": {
        const user = frame.user as PresenceUser;
        this.presence.set(user.user_id, user);
        this.emit({ kind: "presence" });
        break;
      }
      case "presence.leave":
        this.presence.delete((frame.user as { user_id: number }).user_id);
        this.typing.delete((frame.user as { user_id: number }).user_id);
        this.emit({ kind: "presence" });
        break;
      case "typing":
        this.typing.set(frame.user_id as number, {
          channel: frame.channel as string,
          name: frame.display_name as string,
          at: Date.now(),
        });
        this.emit({ kind: "typing" });
        break;
      case "chat.paused":
        this.pausedUntil = (frame.minutes as number) > 0 ? new Date(frame.until as string) : null;
        this.emit({ kind: "paused" });
        break;
      case "room.changed":
        this.role = frame.role as string;
        this.status = frame.status as string;
        this.permissions = new Set(frame.permissions as string[]);
        this.emit({ kind: "permissions" });
        // Which channels are readable and writable follows from the new role or status.
        this.discoverChannels().catch(() => undefined);
        break;
      default:
        for (const extension of this.extensions) extension.push(frame);
    }
  }

  private onMessage(change: string, message: Message): void {
    const state = this.channels.get(message.channel);
    if (!state) return;
    state.saw(message.version, change === "replay");
    if (!state.merge(message)) return;
    // Replayed messages are counted by the `chat.unread` that ends every resume.
    if (change === "created") {
      // Their message arrived: "X is typing…" ends with it.
      if (this.typing.delete(message.author_id)) this.emit({ kind: "typing" });
      const here = this.location.kind === "channel" && this.location.ref === message.channel;
      if (!here && message.author_id !== this.selfId) {
        state.unread += 1;
        this.emit({ kind: "channels" });
      }
    }
    this.emit({ kind: "messages", channel: message.channel, created: change === "created" ? message : undefined });
  }

  private async resync(name: string, reason: string): Promise<void> {
    const state = this.channels.get(name);
    if (!state) return;
    if (reason === "catch_up_failed") {
      // The channel is no longer live for this socket: subscribe again from what we hold.
      const ack = await this.hub.request("chat.subscribe", { channels: { [name]: state.cursor } });
      const result = (ack.channels as Record<string, { recovered: boolean }>)[name];
      if (result?.recovered) return;
    }
    await this.reload(state);
  }

  private watchTyping(): void {
    window.clearInterval(this.typingTimer);
    this.typingTimer = window.setInterval(() => {
      const now = Date.now();
      let changed = false;
      for (const [id, entry] of this.typing) {
        if (now - entry.at > TYPING_SHOWN_MS) {
          this.typing.delete(id);
          changed = true;
        }
      }
      if (changed) this.emit({ kind: "typing" });
    }, 1000);
  }

  private emit(event: RoomEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}
