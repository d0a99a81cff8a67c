// Load worker of bench/yjs_relay.py: stock Yjs editors (yjs + y-websocket's WebsocketProvider
// on the `ws` package), the same code whatever server they drive.
//
// The coordinator writes one JSON command per line on stdin and reads one JSON reply per line
// on stdout. Times are CLOCK_MONOTONIC microseconds (`process.hrtime`, Python's
// `time.monotonic_ns`), one clock for every process of the machine. An edit inserts the marker
// `[editor:number:sentMicros]` at a random place; a replica that sees the marker arrive from the
// server records `now - sentMicros`, so latency includes the receiver's own decoding and
// applying, as an editor would see it. When stdin closes, the worker exits.

import { createHash } from 'node:crypto'
import { createInterface } from 'node:readline'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'

// Every WebsocketProvider adds a process `exit` listener; a worker holds hundreds of them.
process.setMaxListeners(0)

const CONNECT_TIMEOUT_MS = 30000
const CLOSE_TIMEOUT_MS = 10000
const QUIET_MS = 1000
const MARKER = /\[(\d+):(\d+):(\d+)\]/g

/**
 * The socket class given to WebsocketProvider: `ws`, offering permessage-deflate as browsers do
 * unless told not to, and noting when the server's first sync step 2 arrived (before the
 * provider applies it), so that a sync time can be split into the server's and the client's.
 */
function socketClass (deflate) {
  return class TimedWebSocket extends WebSocket {
    constructor (url, protocols) {
      super(url, protocols, deflate ? {} : { perMessageDeflate: false })
      this.step2At = null
      this.addEventListener('message', (event) => {
        if (this.step2At !== null) return
        const data = new Uint8Array(event.data)
        if (data[0] === 0 && data[1] === 1) this.step2At = process.hrtime.bigint()
      })
    }
  }
}
const DeflateWebSocket = socketClass(true)
const PlainWebSocket = socketClass(false)

const nowUs = () => Number(process.hrtime.bigint() / 1000n)
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)))
const reply = (message) => process.stdout.write(JSON.stringify(message) + '\n')

/** Runs `tasks` (functions returning promises) at most `limit` at a time; settles them all. */
async function bounded (tasks, limit) {
  const results = new Array(tasks.length)
  let next = 0
  async function lane () {
    while (next < tasks.length) {
      const index = next++
      try {
        results[index] = { value: await tasks[index]() }
      } catch (error) {
        results[index] = { error: String(error && error.message ? error.message : error) }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, lane))
  return results
}

/** What every replica of this worker counts while the window is open. */
const tally = {
  window: null, // { t0, t1 } in µs
  delivered: 0,
  latencies: [],
  lastArrival: 0, // µs of the last update that any replica received from the server
  pending: 0, // server messages after which the replica held updates missing a dependency
  drops: 0,
  dropSamples: [], // close code, reason and µs after the window closed, of the first few drops
  errors: 0
}

/** One editor: a Y.Doc bound to a server through a stock WebsocketProvider. */
class Replica {
  constructor (seat) {
    this.seat = seat
    this.doc = new Y.Doc()
    this.text = this.doc.getText('content')
    this.ready = false
    this.closing = false
    this.written = 0 // characters this editor inserted: nothing is deleted, so a document's
    // length is the sum over its editors when every edit reached it
    this.provider = new WebsocketProvider(seat.url, seat.room, this.doc, {
      WebSocketPolyfill: seat.deflate === false ? PlainWebSocket : DeflateWebSocket,
      params: seat.params || {},
      disableBc: true,
      connect: true
    })
    // Without awareness (`--no-awareness`): no presence state to announce, renew or forward.
    if (seat.awareness === false) this.provider.awareness.setLocalState(null)
    this.provider.on('connection-close', (event) => {
      if (!this.ready || this.closing) return
      tally.drops++
      if (tally.dropSamples.length < 5) {
        const after = tally.window === null ? null : nowUs() - tally.window.t1
        tally.dropSamples.push([event && event.code, event && event.reason, after])
      }
    })
    this.provider.on('connection-error', () => {
      if (this.ready && !this.closing) tally.errors++
    })
  }

  /** Resolves once the server's step 2 has arrived (the provider's `sync` event). */
  synced (timeoutMs = CONNECT_TIMEOUT_MS) {
    return new Promise((resolve, reject) => {
      if (this.provider.synced) return resolve()
      const timer = setTimeout(() => reject(new Error('no sync within ' + timeoutMs + ' ms')), timeoutMs)
      const closed = (event) => {
        clearTimeout(timer)
        reject(new Error('closed ' + event.code + ' ' + event.reason))
      }
      this.provider.once('closed', closed)
      this.provider.once('sync', () => {
        clearTimeout(timer)
        this.provider.off('closed', closed)
        resolve()
      })
    })
  }

  /**
   * Starts counting remote markers: each one is a delivered edit. The provider applies what
   * the server sends with itself as origin; the update event carries just those structs, so
   * decoding it costs the size of the edit, not of the document (a text event's delta would
   * walk the whole text).
   */
  listen () {
    this.ready = true
    // An update that arrives before one it depends on waits in `pendingStructs` until it can
    // be integrated: a server that reorders a document's updates makes its clients do this.
    this.doc.on('afterTransaction', (transaction) => {
      if (transaction.origin === this.provider && this.doc.store.pendingStructs !== null) {
        tally.pending++
      }
    })
    this.doc.on('update', (update, origin) => {
      if (origin !== this.provider || tally.window === null) return
      const now = nowUs()
      tally.lastArrival = now
      for (const struct of Y.decodeUpdate(update).structs) {
        const inserted = struct.content && struct.content.str
        if (typeof inserted !== 'string') continue
        for (const match of inserted.matchAll(MARKER)) {
          const sent = Number(match[3])
          if (sent >= tally.window.t0 && sent < tally.window.t1) {
            tally.delivered++
            tally.latencies.push(now - sent)
          }
        }
      }
    })
  }

  edit (number) {
    const at = Math.floor(Math.random() * (this.text.length + 1))
    const sent = nowUs()
    const marker = `[${this.seat.editor}:${number}:${sent}]`
    this.written += marker.length
    this.text.insert(at, marker)
    return sent
  }

  digest () {
    const content = this.text.toString()
    return {
      doc: this.seat.doc,
      written: this.written,
      length: content.length,
      hash: createHash('sha1').update(content).digest('hex')
    }
  }

  /** Closes the socket for good and resolves once it is gone (or after a timeout). */
  async close () {
    this.closing = true
    this.provider.destroy()
    const deadline = Date.now() + CLOSE_TIMEOUT_MS
    while (this.provider.ws !== null && Date.now() < deadline) await sleep(20)
    this.doc.destroy()
  }
}

let replicas = []

async function connect ({ seats, concurrency, touch }) {
  const opened = seats.map((seat) => new Replica(seat))
  const results = await bounded(opened.map((replica) => async () => {
    await replica.synced()
    if (touch) replica.edit(0)
  }), concurrency)
  const failures = results.filter((r) => r.error !== undefined).map((r) => r.error)
  replicas.push(...opened.filter((_, i) => results[i].error === undefined))
  await Promise.all(opened.filter((_, i) => results[i].error !== undefined).map((r) => r.close()))
  return { connected: seats.length - failures.length, failed: failures.length, samples: failures.slice(0, 5) }
}

/** Each replica edits on a steady schedule (random phase) until the window closes. */
async function edit ({ start, t0, t1, periodUs, drainMs }) {
  tally.window = { t0, t1 }
  for (const replica of replicas) replica.listen()
  const sentInWindow = {}
  const lags = []
  let sentTotal = 0
  await Promise.all(replicas.map(async (replica) => {
    let due = start + Math.floor(Math.random() * periodUs)
    let number = 0
    while (due < t1) {
      await sleep((due - nowUs()) / 1000)
      if (!replica.provider.wsconnected) { due += periodUs; continue }
      const sent = replica.edit(number++)
      lags.push(sent - due)
      sentTotal++
      if (sent >= t0 && sent < t1) {
        sentInWindow[replica.seat.doc] = (sentInWindow[replica.seat.doc] || 0) + 1
      }
      due += periodUs
    }
  }))
  // Late deliveries (and edits sent after the window by a lagging schedule): wait until no
  // update at all has arrived for QUIET_MS, at most drainMs.
  const drainEnd = Date.now() + drainMs
  while (Date.now() < drainEnd && nowUs() - Math.max(tally.lastArrival, t1) < QUIET_MS * 1000) {
    await sleep(100)
  }
  const figures = {
    sentInWindow,
    sentTotal,
    delivered: tally.delivered,
    pending: tally.pending,
    latencies: tally.latencies,
    lags,
    drops: tally.drops,
    dropSamples: tally.dropSamples,
    errors: tally.errors
  }
  tally.window = null
  return figures
}

function digest () {
  return { replicas: replicas.map((replica) => replica.digest()) }
}

/** A late joiner per document: what the server itself holds, synced into a fresh replica. */
async function verify ({ seats, concurrency }) {
  const results = await bounded(seats.map((seat) => async () => {
    const replica = new Replica(seat)
    try {
      await replica.synced()
      return replica.digest()
    } finally {
      await replica.close()
    }
  }), concurrency)
  return { replicas: results.map((r) => r.value || { error: r.error }) }
}

/**
 * Builds the large document through the server: `builders` editors insert `chunk` characters
 * at random places, in rounds of `round` updates, each round awaited until every builder holds
 * all of it (flow control: the y-websocket protocol has no acknowledgement).
 */
async function build ({ seats, updates, chunk, round, timeoutMs }) {
  const builders = []
  const began = Date.now()
  try {
    for (const seat of seats) { // one at a time: pycrdt-websocket hangs concurrent first joins
      builders.push(new Replica(seat))
      await builders[builders.length - 1].synced()
    }
    const filler = 'abcdefghijklmnopqrstuvwxyz'
    for (let done = 0; done < updates;) {
      const upto = Math.min(updates, done + round)
      for (; done < upto; done++) {
        const builder = builders[done % builders.length]
        const at = Math.floor(Math.random() * (builder.text.length + 1))
        builder.text.insert(at, filler.slice(done % 16, (done % 16) + chunk))
      }
      const expected = done * chunk
      while (builders.some((b) => b.text.length < expected)) {
        if (Date.now() - began > timeoutMs) throw new Error(`build timed out after ${done} updates`)
        await sleep(5)
      }
    }
    return { seconds: (Date.now() - began) / 1000, ...builders[0].digest() }
  } finally {
    replicas.push(...builders)
  }
}

/** Times fresh replicas' initial sync, one after the other: socket opened to step 2 applied. */
async function probe ({ seat, repeat, length }) {
  const timesMs = []
  const step2Ms = [] // until the server's step 2 had arrived, before the client applied it
  const applyMs = [] // the client's own share: applying the same state to an empty Y.Doc
  for (let i = 0; i < repeat; i++) {
    const began = process.hrtime.bigint()
    const replica = new Replica(seat)
    try {
      await replica.synced()
      timesMs.push(Number(process.hrtime.bigint() - began) / 1e6)
      step2Ms.push(Number(replica.provider.ws.step2At - began) / 1e6)
      if (replica.text.length !== length) {
        throw new Error(`synced ${replica.text.length} characters, expected ${length}`)
      }
      const state = Y.encodeStateAsUpdate(replica.doc)
      const applying = process.hrtime.bigint()
      Y.applyUpdate(new Y.Doc(), state)
      applyMs.push(Number(process.hrtime.bigint() - applying) / 1e6)
    } finally {
      await replica.close()
    }
  }
  return { timesMs, step2Ms, applyMs }
}

async function close () {
  const closing = replicas
  replicas = []
  await Promise.all(closing.map((replica) => replica.close()))
  return { closed: closing.length }
}

const COMMANDS = { connect, edit, digest, verify, build, probe, close }

// One command at a time, in order; stdin closing (the coordinator gone) ends the worker.
let queue = Promise.resolve()
createInterface({ input: process.stdin }).on('line', (line) => {
  const command = JSON.parse(line)
  queue = queue.then(async () => {
    try {
      reply({ ok: true, ...(await COMMANDS[command.op](command)) })
    } catch (error) {
      reply({ ok: false, error: String(error && error.stack ? error.stack : error) })
    }
  })
}).on('close', () => process.exit(0))
