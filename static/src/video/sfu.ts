/**
 * The media of an SFU session as this client holds it: my camera (and screen) published to
 * Janus through the server, and one subscription per live feed of my group.
 *
 * Which feeds are live the session state says (each seat's `feeds`), so a participant who joins
 * late, or is moved into a group, subscribes from it at once; `rtc.feed` (sent to my room only,
 * after the state) says the same sooner. A participant whose socket dropped keeps its seat and
 * its feed: its subscriptions stay, and when it publishes again the server switches them to its
 * new feed, so nothing here changes but the media.
 *
 * Layers: every feed of my group is subscribed (for its sound), and the view tells each one
 * which simulcast layer it needs (`want`): the large tile the largest, a visible small tile the
 * smallest, a tile on another page the smallest at its lowest frame rate.
 */

import type { RoomClient } from "../hub/room_client";
import { HubError } from "../hub/socket";
import { Publisher, type Source, Subscription } from "./sfu_links";

export interface SfuSeat {
  participant_id: number;
  state: string;
  breakout?: number | null;
  media: { mic: boolean; camera: boolean; screen: boolean };
  /** My room's live feeds at Janus, by source. */
  feeds?: { camera: boolean; screen: boolean };
}

export interface Layer {
  substream: number;
  temporal: number | null;
}

const key = (participantId: number, source: Source) => `${participantId}:${source}`;

/** A publish refused for a reason that passes (the media server unreachable or restarting, a
 * rate limit) is tried again, after a pause that grows each time; a refusal that stays (a
 * lock, a seat gone) is final at once. */
const PUBLISH_ATTEMPTS = 4;
const PUBLISH_PAUSE_MS = 1_000;
const PASSING = new Set(["media_unavailable", "rate_limited", "internal_error"]);
const passes = (error: unknown) => error instanceof HubError && PASSING.has(error.code);
const pause = (ms: number) => new Promise((resolve) => window.setTimeout(resolve, ms));

/** Seated: joined, or back within the grace period (its feed may still be live). */
const seatedHere = (seat: SfuSeat, group: number | null) =>
  (seat.state === "joined" || seat.state === "reconnecting") && (seat.breakout ?? null) === group;

export class SfuMedia {
  readonly subscriptions = new Map<string, Subscription>();
  /** participant id → when `rtc.speaker` last said they talk; most recent first wins. */
  readonly talking = new Map<number, number>();
  lastSpeaker: number | null = null;
  screen: MediaStream | null = null;
  private readonly publishers = new Map<Source, Publisher>();
  /** My feeds published before a rejoin: they go once their successors are live (the server
   * switched my subscribers over by then), or when publishing again fails. */
  private readonly retiring = new Map<Source, Publisher>();
  private readonly live = new Set<string>();
  private readonly pending = new Set<string>();
  /** Feeds announced while a subscription to them was under way: tried again if it failed. */
  private readonly again = new Set<string>();
  private wanted = new Map<string, Layer>();
  private seats: SfuSeat[] = [];
  private group: number | null = null;
  private closed = false;
  /** Bumped by every restart: work begun for an older generation drops its result. */
  private generation = 0;

  constructor(
    private readonly client: RoomClient,
    private readonly me: number,
    private iceServers: RTCIceServer[],
    private readonly local: () => MediaStream | null,
    private readonly allowed: () => { mic: boolean; camera: boolean },
    private readonly changed: () => void,
  ) {}

  /** Publishes my camera and microphone (whatever of them I have and may send). */
  async start(): Promise<void> {
    await this.publishCamera();
    this.reconcile();
  }

  /** The tracks a lock leaves me: an offer with a locked kind would be refused whole. */
  private cameraFeed(): MediaStream | null {
    const stream = this.local();
    if (!stream) return null;
    const may = this.allowed();
    const tracks = stream.getTracks().filter((track) => (track.kind === "audio" ? may.mic : may.camera));
    return tracks.length > 0 ? new MediaStream(tracks) : null;
  }

  private async publishCamera(): Promise<void> {
    const feed = this.cameraFeed();
    if (feed) await this.publish("camera", feed);
  }

  /** Publishes the camera feed again when it lacks a kind I now may and can send. */
  async ensureCamera(): Promise<void> {
    const publisher = this.publishers.get("camera");
    // Not published yet: the publish under way takes what is allowed by then.
    if (!publisher) return;
    const sent = new Set(publisher.pc.getSenders().map((s) => s.track?.kind));
    const feed = this.cameraFeed();
    if (!feed || feed.getTracks().every((track) => sent.has(track.kind))) return;
    // Unpublished, the old connection carries nothing any more: it goes now, so that a publish
    // that fails leaves no half-live feed behind.
    publisher.close();
    this.publishers.delete("camera");
    await this.client.request("rtc.unpublish", { source: "camera" }).catch(() => undefined);
    await this.publishCamera();
  }

  stream(participantId: number, source: Source): MediaStream | null {
    return this.subscriptions.get(key(participantId, source))?.stream ?? null;
  }

  /** Live screens of my group, mine included. */
  screens(): number[] {
    const found = [...this.subscriptions.values()].filter((s) => s.source === "screen").map((s) => s.participantId);
    return this.screen ? [this.me, ...found] : found;
  }

  private async publish(source: Source, stream: MediaStream): Promise<void> {
    const generation = this.generation;
    let publisher: Publisher | null = null;
    for (let attempt = 1; publisher === null; attempt += 1) {
      try {
        publisher = await Publisher.open(this.client, source, stream, this.iceServers);
      } catch (error) {
        const again = attempt < PUBLISH_ATTEMPTS && passes(error);
        if (!again || this.closed || generation !== this.generation) {
          this.retire(source);
          throw error;
        }
        await pause(PUBLISH_PAUSE_MS * attempt);
      }
    }
    if (this.closed || generation !== this.generation) {
      publisher.close();
      return;
    }
    this.publishers.get(source)?.close();
    this.publishers.set(source, publisher);
  }

  /** Shares a screen as my second feed; it ends when the browser's own "stop sharing" does. */
  /** The state says "screen on" before the feed is announced, so that a subscriber never
   * takes a live screen for one its state says is off (and drops it). */
  async shareScreen(): Promise<void> {
    const stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    try {
      await this.client.request("rtc.media", { screen: true });
      await this.publish("screen", stream);
    } catch (error) {
      for (const track of stream.getTracks()) track.stop();
      await this.client.request("rtc.media", { screen: false }).catch(() => undefined);
      throw error;
    }
    this.screen = stream;
    for (const track of stream.getVideoTracks()) track.addEventListener("ended", () => void this.stopScreen().catch(() => undefined));
    this.changed();
  }

  /** Unpublished before its connection closes: Janus's hang-up would end the feed without
   * the server announcing it. */
  async stopScreen(): Promise<void> {
    if (!this.screen) return;
    for (const track of this.screen.getTracks()) track.stop();
    this.screen = null;
    this.changed();
    try {
      if (this.client.online) {
        await this.client.request("rtc.unpublish", { source: "screen" });
        await this.client.request("rtc.media", { screen: false });
      }
    } finally {
      this.publishers.get("screen")?.close();
      this.publishers.delete("screen");
    }
  }

  async replaceTrack(track: MediaStreamTrack): Promise<void> {
    await this.publishers.get("camera")?.replaceTrack(track);
  }

  private retire(source: Source): void {
    this.retiring.get(source)?.close();
    this.retiring.delete(source);
  }

  /** The session changed: feeds that ended, or of those who left my group (or the call), end
   * here. The state comes before the `rtc.feed` that tells the same. */
  seated(seats: SfuSeat[], group: number | null): void {
    this.seats = seats;
    this.group = group;
    const here = new Map(seats.filter((s) => seatedHere(s, group)).map((s) => [s.participant_id, s]));
    for (const [name, subscription] of this.subscriptions) {
      const seat = here.get(subscription.participantId);
      if (!seat || !seat.feeds?.[subscription.source]) {
        this.drop(name);
        this.live.delete(name);
      }
    }
    this.reconcile();
  }

  /** `rtc.feed`: subscribe to a new feed, or let an ended one go. */
  feed(participantId: number, source: Source, live: boolean): void {
    if (participantId === this.me) {
      if (live) this.retire(source);
      return;
    }
    const name = key(participantId, source);
    if (live) {
      this.live.add(name);
      if (this.pending.has(name)) this.again.add(name);
    } else {
      this.live.delete(name);
      this.drop(name);
      if (source === "camera") {
        this.live.delete(key(participantId, "screen"));
        this.drop(key(participantId, "screen"));
      }
    }
    this.reconcile();
  }

  speaker(participantId: number, talking: boolean): void {
    if (talking) {
      this.talking.set(participantId, Date.now());
      if (participantId !== this.me) this.lastSpeaker = participantId;
    } else {
      this.talking.delete(participantId);
    }
    this.changed();
  }

  /** The layers the view needs now, per feed; applied to each subscription that differs. */
  want(layers: Map<string, Layer>): void {
    this.wanted = layers;
    for (const [name, subscription] of this.subscriptions) this.applyLayer(name, subscription);
  }

  private applyLayer(name: string, subscription: Subscription): void {
    const layer = this.wanted.get(name) ?? { substream: 0, temporal: 0 };
    subscription.layer(this.client, layer.substream, layer.temporal).catch(() => undefined);
  }

  /**
   * `rtc.moved` (another group), `rtc.media_restart` (another Janus) or a rejoin: publish and
   * subscribe again from scratch. After a rejoin (`rejoined`) my old feeds may still be live
   * and carry my subscribers: they stay until their successors are (see `retiring`).
   */
  async restart(iceServers: RTCIceServer[] | null = null, rejoined = false): Promise<void> {
    this.generation += 1;
    if (iceServers) this.iceServers = iceServers;
    for (const [source, publisher] of this.publishers) {
      this.retire(source);
      if (rejoined) this.retiring.set(source, publisher);
      else publisher.close();
    }
    this.publishers.clear();
    for (const name of [...this.subscriptions.keys()]) this.drop(name, false);
    this.live.clear();
    this.changed();
    await this.publishCamera();
    if (this.screen) await this.publish("screen", this.screen);
    this.reconcile();
  }

  /** Subscribes to every live feed of my group not yet held: those the state shows, and those
   * announced since. */
  private reconcile(): void {
    if (this.closed) return;
    for (const seat of this.seats) {
      const id = seat.participant_id;
      if (id === this.me || !seatedHere(seat, this.group)) continue;
      for (const source of ["camera", "screen"] as const) {
        const name = key(id, source);
        if (this.subscriptions.has(name) || this.pending.has(name)) continue;
        if (seat.feeds?.[source] || this.live.has(name)) void this.subscribe(id, source);
      }
    }
  }

  private async subscribe(participantId: number, source: Source): Promise<void> {
    const name = key(participantId, source);
    const generation = this.generation;
    this.pending.add(name);
    try {
      const subscription = await Subscription.open(this.client, participantId, source, this.iceServers, this.changed);
      if (this.closed || generation !== this.generation || this.subscriptions.has(name)) {
        subscription.close(this.client);
        return;
      }
      this.live.add(name);
      this.subscriptions.set(name, subscription);
      this.applyLayer(name, subscription);
      this.changed();
    } catch {
      // Already gone: the state and `rtc.feed` say when it is live again.
      if (!this.again.has(name)) this.live.delete(name);
    } finally {
      this.pending.delete(name);
      if (this.again.delete(name)) this.reconcile();
    }
  }

  private drop(name: string, tell = true): void {
    const subscription = this.subscriptions.get(name);
    if (!subscription) return;
    subscription.close(tell ? this.client : null);
    this.subscriptions.delete(name);
    this.changed();
  }

  /** Out of the session: every connection closes, the screen is let go. */
  close(): void {
    this.closed = true;
    this.generation += 1;
    for (const publisher of [...this.publishers.values(), ...this.retiring.values()]) publisher.close();
    this.publishers.clear();
    this.retiring.clear();
    for (const subscription of this.subscriptions.values()) subscription.pc.close();
    this.subscriptions.clear();
    for (const track of this.screen?.getTracks() ?? []) track.stop();
    this.screen = null;
  }
}
