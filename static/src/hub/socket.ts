/**
 * One hub WebSocket (docs/PROTOCOL.md): requests with ids matched to their replies, pushes
 * handed on in order, and reconnection with jittered exponential backoff so that a whole class
 * coming back at once does not arrive in the same instant.
 */

export type Frame = { type: string; [field: string]: unknown };

export class HubError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retryAfter: number | null = null,
  ) {
    super(message);
  }
}

export type LinkState = "connecting" | "online" | "offline";

/** Close codes after which reconnecting cannot help (PROTOCOL.md, "Close codes"). */
const FINAL_CODES = new Set([4400, 4401, 4403, 4404]);
const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 30_000;
const RATE_LIMITED_MS = 10_000;

export interface HubHandlers {
  /** Runs after every (re)connection, before the link counts as online: resume here. */
  opened(): Promise<void>;
  push(frame: Frame): void;
  state(state: LinkState): void;
  /** The server ended the session for good (close code 4401, 4403, 4404 or 4400). */
  ended(code: number): void;
}

export class HubSocket {
  private socket: WebSocket | null = null;
  private pending = new Map<string, { resolve: (f: Frame) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private failures = 0;
  private retryTimer: number | undefined;
  private stopped = false;

  constructor(
    private readonly url: string,
    private readonly handlers: HubHandlers,
  ) {
    window.addEventListener("online", this.wake);
    window.addEventListener("offline", this.dropNow);
  }

  start(): void {
    this.open();
  }

  stop(): void {
    this.stopped = true;
    window.clearTimeout(this.retryTimer);
    window.removeEventListener("online", this.wake);
    window.removeEventListener("offline", this.dropNow);
    this.socket?.close(1000);
    this.socket = null;
  }

  get online(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  request(type: string, fields: Record<string, unknown> = {}): Promise<Frame> {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      return Promise.reject(new HubError("offline", "not connected"));
    }
    const id = String(this.nextId++);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      socket.send(JSON.stringify({ type, id, ...fields }));
    });
  }

  private open(): void {
    window.clearTimeout(this.retryTimer);
    if (this.stopped) return;
    this.handlers.state("connecting");
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.onmessage = (event) => this.receive(JSON.parse(String(event.data)) as Frame);
    socket.onopen = () => {
      this.handlers
        .opened()
        .then(() => {
          if (this.socket !== socket) return;
          this.failures = 0;
          this.handlers.state("online");
        })
        .catch(() => socket.close(4000));
    };
    socket.onclose = (event) => this.closed(socket, event.code);
  }

  private receive(frame: Frame): void {
    const id = typeof frame.id === "string" ? frame.id : null;
    const waiting = id === null ? undefined : this.pending.get(id);
    if (waiting && (frame.type === "ack" || frame.type === "error")) {
      this.pending.delete(id as string);
      if (frame.type === "ack") waiting.resolve(frame);
      else waiting.reject(
          new HubError(String(frame.code), String(frame.message), typeof frame.retry_after === "number" ? frame.retry_after : null),
        );
      return;
    }
    if (frame.type === "ping") {
      this.socket?.send(JSON.stringify({ type: "pong" }));
      return;
    }
    this.handlers.push(frame);
  }

  private closed(socket: WebSocket, code: number): void {
    if (this.socket !== socket) return;
    this.socket = null;
    for (const waiting of this.pending.values()) {
      waiting.reject(new HubError("offline", "connection closed"));
    }
    this.pending.clear();
    if (this.stopped) return;
    if (FINAL_CODES.has(code)) {
      this.stopped = true;
      this.handlers.ended(code);
      return;
    }
    this.handlers.state("offline");
    this.failures += 1;
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** (this.failures - 1));
    const delay = Math.max(code === 4429 ? RATE_LIMITED_MS : 0, base / 2 + Math.random() * (base / 2));
    this.retryTimer = window.setTimeout(() => this.open(), delay);
  }

  /** The browser says the network is back: try now instead of waiting out the backoff. */
  private readonly wake = (): void => {
    if (!this.stopped && this.socket === null) {
      this.retryTimer = window.setTimeout(() => this.open(), Math.random() * BACKOFF_FIRST_MS);
    }
  };

  /** The browser says the network is gone: a socket may linger for a minute before noticing. */
  private readonly dropNow = (): void => {
    const socket = this.socket;
    if (socket === null) return;
    socket.onclose = null;
    socket.onmessage = null;
    socket.close(4000);
    this.closed(socket, 4000);
  };
}
