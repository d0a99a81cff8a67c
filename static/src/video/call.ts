/**
 * The room's video session as this client sees it (docs/PROTOCOL.md, "Video sessions"): the
 * session state from `rtc.session`, my seat, my camera and microphone, and one `PeerLink` per
 * other joined participant. It rides on the room's hub socket as a `RoomExtension`.
 */

import type { Frame } from "../hub/socket";
import type { RoomClient } from "../hub/room_client";
import { PeerLink, type SignalOut } from "./peer";
import { SfuMedia } from "./sfu";

export interface Media {
  mic: boolean;
  camera: boolean;
  screen: boolean;
}

export interface Participant {
  participant_id: number;
  user_id: number;
  display_name: string;
  role: string;
  state: "joined" | "lobby" | "reconnecting";
  media: Media;
  hand: boolean;
  muted_by: number | null;
  /** SFU sessions: my breakout group (null: the main room). */
  breakout?: number | null;
  /** SFU sessions: the feeds live at Janus, by source. */
  feeds?: { camera: boolean; screen: boolean };
}

export interface Session {
  session_id: number;
  version: number;
  status: "active" | "ended";
  topology: "mesh" | "sfu";
  started_by: number;
  breakouts?: number;
  lobby: boolean;
  max_participants: number;
  publish: "everyone" | "moderators";
  locks: { mic: boolean; camera: boolean };
  participants: Participant[];
  hands: number[];
}

export type CallEvent = "session" | "media" | "peers" | "muted" | "removed" | "ended" | "broadcast" | "moved";

/** A teacher's message to every group (`rtc.broadcast`). */
export interface Broadcast {
  text: string;
  name: string;
}

/** Asked for a whole class: the server caps it at its SFU maximum, or makes it a mesh. */
export const CLASS_SIZE = 50;

export class VideoCall {
  session: Session | null = null;
  /** My seat: null until I join, and after I leave or am removed. */
  participantId: number | null = null;
  seat: "joined" | "lobby" | null = null;
  /** A moderator removed me from the running session: it offers me no Join any more. */
  removed = false;
  local: MediaStream | null = null;
  readonly peers = new Map<number, PeerLink>();
  /** SFU sessions: my feeds at Janus and my subscriptions (null in a mesh). */
  sfu: SfuMedia | null = null;
  broadcast: Broadcast | null = null;
  private iceServers: RTCIceServer[] = [];
  private politeTo = new Set<number>();
  private readonly listeners = new Set<(event: CallEvent) => void>();
  private readonly detach: () => void;

  constructor(private readonly client: RoomClient) {
    this.detach = client.extend({ resumed: () => this.resumed(), push: (frame) => this.onPush(frame) });
  }

  on(listener: (event: CallEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  me(): Participant | undefined {
    return this.session?.participants.find((p) => p.participant_id === this.participantId);
  }

  /** After each (re)connection: the current state, and my seat taken back if I had one. */
  private async resumed(): Promise<void> {
    const reply = await this.client.request("rtc.state");
    this.setSession(reply.session as Session | null);
    const removed = this.session !== null && reply.removed === true;
    if (removed !== this.removed) {
      this.removed = removed;
      this.emit("session");
    }
    if (this.participantId !== null && this.session?.status === "active") await this.join();
  }

  /** Starting is joining: the teacher who starts a session is in it at once. */
  async start(lobby: boolean, wholeClass = false): Promise<void> {
    const reply = await this.client.request("rtc.start", wholeClass ? { lobby, max_participants: CLASS_SIZE } : { lobby });
    this.setSession(reply.session as Session);
    await this.join();
  }

  /** Every seat is taken and joining would be refused (a lobby still lets pupils wait). */
  full(): boolean {
    const session = this.session;
    if (!session || this.me()) return false;
    if (session.lobby && !this.client.can("video.moderate")) return false;
    return this.seatedCount() >= session.max_participants;
  }

  seatedCount(): number {
    return this.session?.participants.filter((p) => p.state !== "lobby").length ?? 0;
  }

  /** Opens the camera and microphone (if any), then takes a seat. */
  async join(): Promise<void> {
    if (!this.local) await this.openDevices(null, null);
    const reply = await this.client.request("rtc.join");
    const id = reply.participant_id as number;
    if (this.participantId !== null && (id !== this.participantId || !reply.rejoined)) {
      this.closePeers();
      this.closeSfu();
    }
    this.participantId = id;
    this.seat = reply.state as "joined" | "lobby";
    this.setSession(reply.session as Session);
    if (this.seat === "joined") this.connect(reply);
    await this.publishMedia();
  }

  sfuSession(): boolean {
    return this.session?.topology === "sfu";
  }

  /** Camera and microphone, optionally from chosen devices; either may be missing. */
  async openDevices(cameraId: string | null, micId: string | null): Promise<void> {
    // On the SFU the camera is sent in three layers: the largest is worth a larger picture.
    const size: MediaTrackConstraints = this.sfuSession() ? { width: { ideal: 1280 }, height: { ideal: 720 } } : {};
    const video: MediaTrackConstraints | boolean = cameraId ? { ...size, deviceId: { exact: cameraId } } : this.sfuSession() ? size : true;
    const audio: MediaTrackConstraints | boolean = micId ? { deviceId: { exact: micId } } : true;
    let stream: MediaStream | null = null;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video, audio });
    } catch {
      stream = await navigator.mediaDevices.getUserMedia({ audio }).catch(() => null);
    }
    if (!stream) return;
    const was = this.me()?.media;
    if (this.local) {
      for (const track of stream.getTracks()) {
        for (const peer of this.peers.values()) await peer.replaceTrack(track);
        await this.sfu?.replaceTrack(track);
        this.local.getTracks().filter((old) => old.kind === track.kind).forEach((old) => {
          old.stop();
          this.local?.removeTrack(old);
        });
        this.local.addTrack(track);
      }
    } else {
      this.local = stream;
    }
    if (was) this.applyLocal(was);
    this.emit("media");
  }

  async devices(): Promise<MediaDeviceInfo[]> {
    return navigator.mediaDevices.enumerateDevices();
  }

  /** The tracks I hold that are on: my microphone and camera as the state says. */
  private applyLocal(media: Media): void {
    for (const track of this.local?.getAudioTracks() ?? []) track.enabled = media.mic;
    for (const track of this.local?.getVideoTracks() ?? []) track.enabled = media.camera;
  }

  /** Announces what my devices give, except what a lock or `publish: "moderators"` keeps off. */
  private async publishMedia(): Promise<void> {
    if (this.seat !== "joined") return;
    const may = this.allowed();
    const mic = (this.local?.getAudioTracks().length ?? 0) > 0 && may.mic;
    const camera = (this.local?.getVideoTracks().length ?? 0) > 0 && may.camera;
    await this.setMedia({ mic, camera });
  }

  async setMedia(change: Partial<Media>): Promise<void> {
    const reply = await this.client.request("rtc.media", change);
    this.setSession(reply.session as Session);
    // A kind kept out of my published feed by a lock goes into it once I may turn it on.
    if (change.mic || change.camera) await this.sfu?.ensureCamera();
  }

  /** What my camera feed may carry: a lock or `publish: "moderators"` keeps a kind out. */
  private allowed(): { mic: boolean; camera: boolean } {
    const moderator = this.client.can("video.moderate");
    const locks = this.session?.locks;
    return { mic: moderator || !locks?.mic, camera: moderator || (!locks?.camera && this.session?.publish !== "moderators") };
  }

  async hand(raised: boolean): Promise<void> {
    const reply = await this.client.request("rtc.hand", { raised });
    this.setSession(reply.session as Session);
  }

  async leave(): Promise<void> {
    if (this.participantId !== null && this.client.online) {
      await this.client.request("rtc.leave").catch(() => undefined);
    }
    this.dropSeat();
  }

  /** Moderation: `rtc.admit`, `rtc.mute`, `rtc.lock`, `rtc.remove`, `rtc.end`. */
  async moderate(type: string, fields: Record<string, unknown> = {}): Promise<void> {
    const reply = await this.client.request(type, fields);
    if (reply.session) this.setSession(reply.session as Session);
  }

  /** Leaves the call and lets go of the camera (the person left the video page or the room). */
  close(): void {
    void this.leave();
    this.detach();
    this.listeners.clear();
  }

  /** Out of the call (left, removed or ended): the camera and microphone are let go at once. */
  private dropSeat(): void {
    this.participantId = null;
    this.seat = null;
    this.closePeers();
    this.closeSfu();
    for (const track of this.local?.getTracks() ?? []) track.stop();
    this.local = null;
  }

  private closeSfu(): void {
    if (!this.sfu) return;
    this.sfu.close();
    this.sfu = null;
    this.emit("peers");
  }

  private closePeers(): void {
    for (const peer of this.peers.values()) peer.close();
    this.peers.clear();
    this.emit("peers");
  }

  /** Newly joined or admitted: I offer to everyone already joined. */
  private connect(reply: Frame): void {
    this.iceServers = (reply.ice_servers as RTCIceServer[] | undefined) ?? [];
    if (this.sfuSession()) {
      this.connectSfu();
      return;
    }
    const others = (this.session?.participants ?? []).filter((p) => p.state !== "lobby" && p.participant_id !== this.participantId);
    // `polite` applies to everyone listed now; later arrivals are polite toward me.
    this.politeTo = new Set(reply.polite ? others.map((p) => p.participant_id) : []);
    for (const other of others) if (other.state === "joined") this.peer(other.participant_id);
  }

  /** SFU: publish to Janus (again, after a rejoin: my new feed replaces the old one for its
   * subscribers). */
  private connectSfu(): void {
    const me = this.participantId;
    if (me === null) return;
    if (this.sfu) {
      void this.sfu.restart(this.iceServers, true).catch(() => undefined);
      return;
    }
    this.sfu = new SfuMedia(this.client, me, this.iceServers, () => this.local, () => this.allowed(), () => this.emit("peers"));
    this.sfuSeats();
    void this.sfu.start().catch(() => undefined);
  }

  private sfuSeats(): void {
    if (this.sfu && this.session) this.sfu.seated(this.session.participants, this.me()?.breakout ?? null);
  }

  private peer(id: number): PeerLink {
    let link = this.peers.get(id);
    if (!link) {
      const polite = this.politeTo.has(id);
      link = new PeerLink(id, polite, this.iceServers, this.local, (signal) => this.signal(id, signal), () => this.emit("peers"));
      this.peers.set(id, link);
      this.emit("peers");
    }
    return link;
  }

  private async signal(to: number, signal: SignalOut): Promise<void> {
    await this.client.request("rtc.signal", { to, ...signal });
  }

  private setSession(session: Session | null): void {
    const held = this.session;
    if (session && held && (session.session_id < held.session_id || (session.session_id === held.session_id && session.version < held.version))) {
      return;
    }
    const before = held?.session_id ?? null;
    this.session = session && session.status === "active" ? session : null;
    // A removal holds for its own session only; an ended session is news worth an event.
    if (this.session?.session_id !== before) this.removed = false;
    if (!this.session) {
      // A teacher's message belongs to the lesson it was sent in.
      this.broadcast = null;
      this.dropSeat();
      if (held) this.emit("ended");
    } else {
      const joined = new Set(this.session.participants.filter((p) => p.state !== "lobby").map((p) => p.participant_id));
      for (const [id, peer] of this.peers) {
        if (!joined.has(id)) {
          peer.close();
          this.peers.delete(id);
        }
      }
      if (this.participantId !== null && !this.me()) this.dropSeat();
      this.sfuSeats();
    }
    this.emit("session");
  }

  private onPush(frame: Frame): void {
    switch (frame.type) {
      case "rtc.session":
        this.setSession(frame.session as Session);
        break;
      case "rtc.signal": {
        if (this.seat !== "joined") return;
        const signal: SignalOut = {};
        if (frame.description) signal.description = frame.description as RTCSessionDescriptionInit;
        if (frame.candidate) signal.candidate = frame.candidate as RTCIceCandidateInit;
        this.peer(frame.from as number).receive(signal).catch(() => undefined);
        break;
      }
      case "rtc.admitted":
        this.seat = "joined";
        this.setSession(frame.session as Session);
        this.connect(frame);
        void this.publishMedia().catch(() => undefined);
        break;
      case "rtc.muted":
        // The server turned my media off in the state: my devices obey at once.
        if (frame.mic) for (const track of this.local?.getAudioTracks() ?? []) track.enabled = false;
        if (frame.camera) for (const track of this.local?.getVideoTracks() ?? []) track.enabled = false;
        this.emit("muted");
        break;
      case "rtc.feed":
        this.sfu?.feed(frame.participant_id as number, frame.source === "screen" ? "screen" : "camera", frame.live === true);
        break;
      case "rtc.speaker":
        this.sfu?.speaker(frame.participant_id as number, frame.talking === true);
        break;
      case "rtc.moved":
        this.setSession(frame.session as Session);
        void this.sfu?.restart().catch(() => undefined);
        this.emit("moved");
        break;
      case "rtc.media_restart":
        void this.sfu?.restart().catch(() => undefined);
        break;
      case "rtc.broadcast":
        this.broadcast = { text: String(frame.text), name: String(frame.name) };
        this.emit("broadcast");
        break;
      case "rtc.removed":
        this.removed = true;
        this.dropSeat();
        this.emit("removed");
        break;
    }
  }

  private emit(event: CallEvent): void {
    if (event === "session") {
      const mine = this.me();
      if (mine) this.applyLocal(mine.media);
    }
    for (const listener of this.listeners) listener(event);
  }
}
