/**
 * The peer connections of an SFU session (docs/PROTOCOL.md, "Video sessions", topology `sfu`):
 * one publisher per source (camera with microphone, or screen) and one subscription per feed
 * received. Janus is never reached directly; every description goes through the hub socket.
 *
 * The protocol has no trickled candidates on the SFU: each side's description carries all of
 * them, so an offer or answer is sent only once ICE gathering is complete.
 */

import type { RoomClient } from "../hub/room_client";

export type Source = "camera" | "screen";

/**
 * The camera's simulcast encodings: a subscriber gets the one its tile needs (`rtc.layer`
 * substream 0 is `l`, 2 is `h`), and the publisher uploads once. Listed largest first: Janus
 * reads the offer's `a=simulcast:send h;m;l` in that order unless told otherwise (its
 * `rid_order`, which the protocol does not carry); smallest first, substream 0 was `h`.
 */
const SIMULCAST: RTCRtpEncodingParameters[] = [
  { rid: "h", scaleResolutionDownBy: 1, maxBitrate: 1_500_000 },
  { rid: "m", scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: "l", scaleResolutionDownBy: 4, maxBitrate: 150_000 },
];

/** A generous bound on gathering: host candidates come at once, a STUN or TURN server may not. */
const GATHER_MS = 5000;

/** Resolves once the connection gathered all its candidates (or after `GATHER_MS`: then the
 * description holds those found so far, which is what a browser without a server would send). */
export function gathered(pc: RTCPeerConnection): Promise<void> {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      if (pc.iceGatheringState !== "complete") return;
      pc.removeEventListener("icegatheringstatechange", done);
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      pc.removeEventListener("icegatheringstatechange", done);
      resolve();
    }, GATHER_MS);
    pc.addEventListener("icegatheringstatechange", done);
  });
}

function plain(description: RTCSessionDescription | null): RTCSessionDescriptionInit {
  if (!description) throw new Error("no local description");
  return { type: description.type, sdp: description.sdp };
}

/** My upload of one source to Janus: the camera in three simulcast layers with the
 * microphone, or a screen in one layer. */
export class Publisher {
  readonly pc: RTCPeerConnection;

  private constructor(readonly source: Source, iceServers: RTCIceServer[]) {
    this.pc = new RTCPeerConnection({ iceServers });
  }

  static async open(client: RoomClient, source: Source, stream: MediaStream, iceServers: RTCIceServer[]): Promise<Publisher> {
    const publisher = new Publisher(source, iceServers);
    const pc = publisher.pc;
    try {
      for (const track of stream.getAudioTracks()) pc.addTransceiver(track, { direction: "sendonly", streams: [stream] });
      for (const track of stream.getVideoTracks()) {
        const sendEncodings = source === "camera" ? SIMULCAST.map((e) => ({ ...e })) : undefined;
        pc.addTransceiver(track, { direction: "sendonly", streams: [stream], sendEncodings });
      }
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc);
      const reply = await client.request("rtc.publish", { source, description: plain(pc.localDescription) });
      await pc.setRemoteDescription(reply.description as RTCSessionDescriptionInit);
    } catch (error) {
      pc.close();
      throw error;
    }
    return publisher;
  }

  /** A new camera or microphone: swapped in without publishing again. */
  async replaceTrack(track: MediaStreamTrack): Promise<void> {
    const sender = this.pc.getSenders().find((s) => s.track?.kind === track.kind);
    if (sender) await sender.replaceTrack(track);
  }

  close(): void {
    this.pc.close();
  }
}

interface LayerChoice {
  substream: number;
  temporal: number | null;
}

const sameLayer = (a: LayerChoice | null, b: LayerChoice | null) => a?.substream === b?.substream && a?.temporal === b?.temporal;

/** One feed received from Janus: Janus offers, this side answers. */
export class Subscription {
  readonly stream = new MediaStream();
  /** The simulcast layer the view wants, and the last one Janus confirmed (null: its default,
   * the largest). */
  private wanted: LayerChoice | null = null;
  private applied: LayerChoice | null = null;
  private asking = false;

  private constructor(
    readonly participantId: number,
    readonly source: Source,
    readonly number: number,
    readonly pc: RTCPeerConnection,
  ) {}

  static async open(client: RoomClient, participantId: number, source: Source, iceServers: RTCIceServer[], changed: () => void): Promise<Subscription> {
    const reply = await client.request("rtc.subscribe", { participant_id: participantId, source });
    const pc = new RTCPeerConnection({ iceServers });
    const subscription = new Subscription(participantId, source, reply.subscription as number, pc);
    pc.ontrack = (event) => {
      if (!subscription.stream.getTracks().includes(event.track)) subscription.stream.addTrack(event.track);
      changed();
    };
    try {
      await pc.setRemoteDescription(reply.description as RTCSessionDescriptionInit);
      await pc.setLocalDescription(await pc.createAnswer());
      await gathered(pc);
      await client.request("rtc.answer", { subscription: subscription.number, description: plain(pc.localDescription) });
    } catch (error) {
      subscription.close(client);
      throw error;
    }
    return subscription;
  }

  /**
   * Asks Janus for another simulcast layer when it differs from the one applied. One request
   * at a time: two in flight (the speaker changing fast) could reach Janus in either order, and
   * leave the one asked first in place.
   */
  async layer(client: RoomClient, substream: number, temporal: number | null): Promise<void> {
    if (this.stream.getVideoTracks().length === 0) return;
    this.wanted = { substream, temporal };
    if (this.asking) return;
    this.asking = true;
    try {
      while (this.wanted && !sameLayer(this.wanted, this.applied)) {
        const next: LayerChoice = this.wanted;
        const fields: Record<string, unknown> = { subscription: this.number, substream: next.substream };
        if (next.temporal !== null) fields.temporal = next.temporal;
        await client.request("rtc.layer", fields);
        this.applied = next;
      }
    } finally {
      this.asking = false;
    }
  }

  /** Closes the connection and tells the server, unless the feed or the room is already gone. */
  close(client: RoomClient | null): void {
    this.pc.close();
    if (client?.online) client.request("rtc.unsubscribe", { subscription: this.number }).catch(() => undefined);
  }
}
