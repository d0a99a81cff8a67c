/**
 * One peer connection of the mesh (docs/PROTOCOL.md, "Joining and connecting"), negotiated the
 * "perfect negotiation" way: either side may offer; on glare the polite side (the higher
 * participant id, as the server's `polite` says) rolls back and answers.
 */

export interface SignalOut {
  description?: RTCSessionDescriptionInit;
  candidate?: RTCIceCandidateInit;
}

export class PeerLink {
  readonly pc: RTCPeerConnection;
  readonly remote = new MediaStream();
  private makingOffer = false;
  private ignoreOffer = false;

  constructor(
    readonly participantId: number,
    private readonly polite: boolean,
    iceServers: RTCIceServer[],
    local: MediaStream | null,
    private readonly send: (signal: SignalOut) => Promise<void>,
    private readonly changed: () => void,
  ) {
    this.pc = new RTCPeerConnection({ iceServers });
    // Every side sends and receives both kinds, with or without a device behind them.
    for (const kind of ["audio", "video"] as const) {
      const track = local?.getTracks().find((candidate) => candidate.kind === kind);
      if (track && local) this.pc.addTrack(track, local);
      else this.pc.addTransceiver(kind, { direction: "recvonly" });
    }
    this.pc.ontrack = (event) => {
      if (!this.remote.getTracks().includes(event.track)) this.remote.addTrack(event.track);
      this.changed();
    };
    this.pc.onnegotiationneeded = () => void this.offer();
    this.pc.onicecandidate = (event) => {
      const found = event.candidate;
      if (found && found.candidate) {
        // The fields PROTOCOL.md names; the server refuses others (e.g. `usernameFragment`).
        const candidate = { candidate: found.candidate, sdpMid: found.sdpMid, sdpMLineIndex: found.sdpMLineIndex };
        this.send({ candidate }).catch(() => undefined);
      }
    };
    this.pc.onconnectionstatechange = () => {
      if (this.pc.connectionState === "failed") this.pc.restartIce();
      this.changed();
    };
  }

  private async offer(): Promise<void> {
    try {
      this.makingOffer = true;
      await this.pc.setLocalDescription();
      const description = this.pc.localDescription;
      if (description) await this.send({ description: { type: description.type, sdp: description.sdp } });
    } catch {
      // A failed offer is retried by the next negotiationneeded or the peer's own offer.
    } finally {
      this.makingOffer = false;
    }
  }

  /** A description or candidate from the peer, relayed by the server. */
  async receive(signal: SignalOut): Promise<void> {
    if (signal.description) {
      const description = signal.description;
      const collision = description.type === "offer" && (this.makingOffer || this.pc.signalingState !== "stable");
      this.ignoreOffer = !this.polite && collision;
      if (this.ignoreOffer) return;
      await this.pc.setRemoteDescription(description);
      if (description.type === "offer") {
        await this.pc.setLocalDescription();
        const answer = this.pc.localDescription;
        if (answer) await this.send({ description: { type: answer.type, sdp: answer.sdp } });
      }
    } else if (signal.candidate) {
      try {
        await this.pc.addIceCandidate(signal.candidate);
      } catch (error) {
        if (!this.ignoreOffer) throw error;
      }
    }
  }

  /** A new camera or microphone: swapped in without renegotiating. */
  async replaceTrack(track: MediaStreamTrack): Promise<void> {
    const sender = this.pc.getSenders().find((s) => s.track?.kind === track.kind);
    if (sender) await sender.replaceTrack(track);
  }

  close(): void {
    this.pc.close();
  }
}
