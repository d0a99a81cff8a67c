/**
 * The tiles of a video call, for the mesh's grid and the SFU's views alike. A tile keeps its
 * <video> for as long as its person (or screen) is shown, even when it moves between the large
 * place and the grid, so playback never restarts on a redraw.
 */

import { h, replace } from "../dom";
import { t } from "../i18n";
import type { Participant } from "../video/call";

export interface TileEntry {
  participant: Participant;
  stream: MediaStream | null;
  self: boolean;
  /** A shared screen rather than the camera (SFU sessions). */
  screen?: boolean;
  speaking?: boolean;
}

export class Tiles {
  private readonly tiles = new Map<string, HTMLLIElement>();

  /** Drops the tiles no longer shown; `place` each entry's tile, in order, in its list. */
  sync(entries: Map<string, TileEntry>, place: (key: string, tile: HTMLLIElement) => void): void {
    for (const [key, tile] of this.tiles) {
      if (!entries.has(key)) {
        tile.remove();
        this.tiles.delete(key);
      }
    }
    for (const [key, entry] of entries) {
      let tile = this.tiles.get(key);
      if (!tile) {
        const video = h("video", { autoplay: true, playsinline: true, "aria-hidden": "true" });
        video.muted = entry.self;
        tile = h("li", { class: "tile", "data-participant": key }, video, h("p", { class: "tile-name" }));
        this.tiles.set(key, tile);
      }
      place(key, tile);
      fill(tile, entry);
    }
  }

  /** Takes every tile off the page (they stay known, and come back with their video). */
  detachAll(): void {
    for (const tile of this.tiles.values()) tile.remove();
  }
}

function fill(tile: HTMLLIElement, entry: TileEntry): void {
  const video = tile.querySelector("video") as HTMLVideoElement;
  const tracks = String(entry.stream?.getTracks().length ?? 0);
  if (video.srcObject !== entry.stream || video.dataset.tracks !== tracks) {
    // A remote stream gains its tracks after it is shown: start playback again each time.
    video.srcObject = entry.stream;
    video.dataset.tracks = tracks;
    video.play().catch(() => undefined);
  } else if (video.paused && entry.stream) {
    video.play().catch(() => undefined);
  }
  const p = entry.participant;
  const name = entry.self ? t("presence.you", { name: p.display_name }) : p.display_name;
  if (entry.screen) {
    tile.classList.add("screen");
    replace(tile.querySelector(".tile-name") as HTMLElement, h("strong", {}, t("video.screen_of", { name })));
    return;
  }
  const states = [
    p.media.mic ? t("video.mic_on") : t("video.mic_off"),
    p.media.camera ? t("video.camera_on") : t("video.camera_off"),
    p.hand ? t("video.hand_up") : null,
    p.state === "reconnecting" ? t("video.reconnecting") : null,
    entry.speaking ? t("video.speaking") : null,
  ].filter(Boolean);
  tile.classList.toggle("hand-up", p.hand);
  tile.classList.toggle("camera-off", !p.media.camera);
  tile.classList.toggle("speaking", Boolean(entry.speaking));
  replace(tile.querySelector(".tile-name") as HTMLElement, h("strong", {}, name), h("span", { class: "tile-state" }, ` · ${states.join(" · ")}`));
}
