/**
 * The uploads of one room, with tus-js-client (the protocol's own maintained client, see
 * README): resumable, in 5 MiB PATCHes (proxies refuse larger bodies), paused and resumed by
 * hand, retried after a dropped connection from where the server stands (`HEAD`), and resumed
 * when the network comes back. An upload's address is kept for the tab only (like the session
 * token): after a reload the same file picked again continues, and a shared school computer
 * keeps no trace of a pupil's file names once the tab is closed. The list lives as long as the room, so a person may look
 * elsewhere while a video goes up. After the last byte the server processes the file; its
 * status is asked until the material is ready or refused.
 */

import { type DetailedError, type PreviousUpload, Upload, type UrlStorage } from "tus-js-client";

import { currentSession } from "../session";
import { materials } from "./api";

const CHUNK_BYTES = 5 * 1024 * 1024;
// tus-js-client retries a dropped request after these waits (ms); offline it stops at once.
const RETRY_DELAYS = [0, 1000, 3000, 5000, 10000, 20000];
// Asking where a finished upload went: soon at first, then less often.
const STATUS_DELAYS = [300, 700, 1000, 2000, 3000, 5000];

export type UploadState = "uploading" | "paused" | "waiting" | "failed" | "processing" | "done" | "refused";

export interface UploadItem {
  readonly key: string;
  readonly name: string;
  readonly collectionId: number;
  sent: number;
  readonly total: number;
  state: UploadState;
  /** The refusal's error code (docs/PROTOCOL.md), or "network" for a connection that failed. */
  error: string | null;
  materialId: number | null;
  readonly upload: Upload;
}

let counter = 0;

/** tus-js-client's address book of unfinished uploads, in `sessionStorage` instead of `localStorage`. */
class TabUrlStorage implements UrlStorage {
  private readonly prefix = "tus::";

  async findAllUploads(): Promise<PreviousUpload[]> {
    return this.find(this.prefix);
  }

  async findUploadsByFingerprint(fingerprint: string): Promise<PreviousUpload[]> {
    return this.find(`${this.prefix}${fingerprint}::`);
  }

  async removeUpload(urlStorageKey: string): Promise<void> {
    sessionStorage.removeItem(urlStorageKey);
  }

  async addUpload(fingerprint: string, upload: PreviousUpload): Promise<string> {
    const key = `${this.prefix}${fingerprint}::${Math.round(Math.random() * 1e12)}`;
    sessionStorage.setItem(key, JSON.stringify(upload));
    return key;
  }

  private find(start: string): PreviousUpload[] {
    const found: PreviousUpload[] = [];
    for (let index = 0; index < sessionStorage.length; index += 1) {
      const key = sessionStorage.key(index);
      if (!key?.startsWith(start)) continue;
      try {
        found.push({ ...(JSON.parse(sessionStorage.getItem(key) ?? "") as PreviousUpload), urlStorageKey: key });
      } catch {
        sessionStorage.removeItem(key);
      }
    }
    return found;
  }
}

const urlStorage = new TabUrlStorage();

export class Uploads {
  readonly items: UploadItem[] = [];
  private readonly listeners = new Set<() => void>();
  /** Called when an upload became a material (or was refused after processing): views reload. */
  onFinished: () => void = () => undefined;

  constructor(readonly projectId: number) {
    window.addEventListener("online", () => {
      for (const item of this.items) if (item.state === "waiting") this.resume(item);
    });
  }

  on(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts uploading `file` into a collection; an upload of the same file begun before
   * (a closed lid, a reloaded page) continues where the server stands. */
  async add(file: File, collectionId: number, declaration: string): Promise<void> {
    counter += 1;
    const item: UploadItem = {
      key: `upload-${counter}`,
      name: file.name,
      collectionId,
      sent: 0,
      total: file.size,
      state: "uploading",
      error: null,
      materialId: null,
      upload: new Upload(file, {
        endpoint: `/api/projects/${this.projectId}/uploads`,
        chunkSize: CHUNK_BYTES,
        retryDelays: RETRY_DELAYS,
        removeFingerprintOnSuccess: true,
        urlStorage,
        metadata: { collection_id: String(collectionId), filename: file.name, declaration },
        // The same file into another album is another upload.
        fingerprint: async (f: File) =>
          ["twinspace", this.projectId, collectionId, f.name, f.type, f.size, f.lastModified].join("-"),
        onBeforeRequest: (request) => {
          const session = currentSession();
          if (session) request.setHeader("Authorization", `Bearer ${session.token}`);
        },
        onProgress: (sent) => {
          item.sent = sent;
          this.emit();
        },
        onError: (error) => this.failed(item, error),
        onSuccess: () => {
          item.sent = item.total;
          item.state = "processing";
          this.emit();
          void this.follow(item, 0);
        },
      }),
    };
    this.items.push(item);
    this.emit();
    const previous = await item.upload.findPreviousUploads().catch(() => []);
    if (previous.length > 0) item.upload.resumeFromPreviousUpload(previous[0]);
    item.upload.start();
  }

  pause(item: UploadItem): void {
    if (item.state !== "uploading") return;
    item.state = "paused";
    void item.upload.abort();
    this.emit();
  }

  /** Resume, or retry after a failure: tus asks the server where the upload stands first. */
  resume(item: UploadItem): void {
    if (!["paused", "waiting", "failed"].includes(item.state)) return;
    item.state = "uploading";
    item.error = null;
    item.upload.start();
    this.emit();
  }

  /** Stops the upload and deletes what the server holds of it (tus termination). */
  cancel(item: UploadItem): void {
    if (["uploading", "paused", "waiting", "failed"].includes(item.state)) {
      void item.upload.abort(true).catch(() => undefined);
    }
    this.dismiss(item);
  }

  dismiss(item: UploadItem): void {
    const index = this.items.indexOf(item);
    if (index >= 0) this.items.splice(index, 1);
    this.emit();
  }

  private failed(item: UploadItem, error: Error | DetailedError): void {
    if (item.state === "paused") return;
    const response = "originalResponse" in error ? error.originalResponse : null;
    const status = response?.getStatus() ?? 0;
    if (status === 0) {
      // No answer: the connection dropped. It resumes when the network is back, or by hand.
      item.state = navigator.onLine ? "failed" : "waiting";
      item.error = "network";
    } else {
      item.state = status >= 500 || status === 409 ? "failed" : "refused";
      item.error = errorCode(response?.getBody() ?? "");
    }
    this.emit();
  }

  /** Asks where the finished upload went until it is a material or refused. */
  private async follow(item: UploadItem, attempt: number): Promise<void> {
    const url = item.upload.url;
    if (!url) return;
    await new Promise((resolve) => window.setTimeout(resolve, STATUS_DELAYS[Math.min(attempt, STATUS_DELAYS.length - 1)]));
    if (!this.items.includes(item)) return;
    try {
      const status = await materials.uploadStatus(new URL(url, location.href).pathname);
      if (status.status === "done") {
        item.state = "done";
        item.materialId = status.material_id;
      } else if (status.status === "failed") {
        item.state = "refused";
        item.error = status.error ?? "media_invalid";
      }
    } catch {
      // Offline for a moment: ask again.
    }
    if (item.state === "processing") {
      void this.follow(item, attempt + 1);
      return;
    }
    this.emit();
    this.onFinished();
  }

  private emit(): void {
    for (const listener of this.listeners) listener();
  }
}

function errorCode(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: { code?: string } };
    return parsed.error?.code ?? "internal_error";
  } catch {
    return "internal_error";
  }
}

const rooms = new Map<number, Uploads>();

/** The uploads of a project, kept while the page lives (a person may switch views). */
export function uploadsOf(projectId: number): Uploads {
  let found = rooms.get(projectId);
  if (!found) {
    found = new Uploads(projectId);
    rooms.set(projectId, found);
  }
  return found;
}
