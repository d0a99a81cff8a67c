/**
 * What the client holds of one chat channel: its messages, merged by version so that a change
 * seen twice (history and push, replay and live) is applied once, and the resume cursor.
 */

import type { Attached } from "../materials/api";

export interface Message {
  channel: string;
  seq: number;
  version: number;
  author_id: number;
  text: string;
  reply_to: number | null;
  created_at: string;
  edited_at: string | null;
  deleted: { by: number; at: string } | null;
  reactions: Record<string, number[]>;
  materials: Attached[];
}

export interface ChannelInfo {
  name: string;
  title: string;
  rule: "all" | "staff" | "pupils";
  last_seq: number;
  writable: boolean;
}

export interface Outgoing {
  key: string;
  text: string;
  reply_to: number | null;
  materials: number[];
  failed: boolean;
  /** Set when a teacher's pause refused it: until when the sender is muted. */
  mutedUntil?: Date;
}

export class ChannelState {
  readonly messages = new Map<number, Message>();
  /** The highest version up to which this client holds every change (PROTOCOL.md, resume). */
  cursor: number;
  private ahead = new Set<number>();
  loaded = false;
  hasOlder = true;
  unread = 0;
  readSeq = 0;
  readonly outbox: Outgoing[] = [];

  constructor(public info: ChannelInfo) {
    this.cursor = info.last_seq;
  }

  /**
   * Applies a message state unless an equal or newer one is held. True if it changed. A pushed
   * change to a message older than the loaded window is skipped: history brings it when needed.
   */
  merge(message: Message, fromHistory = false): boolean {
    const held = this.messages.get(message.seq);
    if (held && held.version >= message.version) return false;
    if (!held && !fromHistory && this.hasOlder && message.seq < this.oldestSeq()) return false;
    this.messages.set(message.seq, message);
    return true;
  }

  /**
   * Records that change `version` arrived. A replay is in version order and carries each
   * message's latest state, so it covers everything below it; live changes arrive one by one.
   */
  saw(version: number, replay: boolean): void {
    if (version <= this.cursor) return;
    if (replay || version === this.cursor + 1) {
      this.cursor = version;
    } else {
      this.ahead.add(version);
    }
    this.drain();
  }

  /** History reflects every change up to its `last_seq`. */
  coveredUpTo(lastSeq: number): void {
    if (lastSeq > this.cursor) this.cursor = lastSeq;
    this.drain();
  }

  /**
   * Forgets the messages (after `recovered: false` or `chat.resync`), keeping the outbox. The
   * cursor starts again from the history that follows, whose `last_seq` may be lower.
   */
  reset(): void {
    this.cursor = 0;
    this.messages.clear();
    this.ahead.clear();
    this.loaded = false;
    this.hasOlder = true;
  }

  oldestSeq(): number {
    let oldest = Infinity;
    for (const seq of this.messages.keys()) oldest = Math.min(oldest, seq);
    return oldest;
  }

  newestSeq(): number {
    let newest = 0;
    for (const seq of this.messages.keys()) newest = Math.max(newest, seq);
    return newest;
  }

  ordered(): Message[] {
    return [...this.messages.values()].sort((a, b) => a.seq - b.seq);
  }

  private drain(): void {
    for (const version of [...this.ahead]) {
      if (version <= this.cursor) this.ahead.delete(version);
    }
    while (this.ahead.delete(this.cursor + 1)) this.cursor += 1;
  }
}
