// Stock Yjs clients (yjs + y-websocket's WebsocketProvider) against a real TwinSpace RT server.
// Usage: node scenarios.mjs <scenario> <json args>; prints one JSON line with the outcome.
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'

const [scenario, rawArgs] = process.argv.slice(2)
const args = JSON.parse(rawArgs)
setTimeout(() => { console.log(JSON.stringify({ error: 'timeout' })); process.exit(2) }, args.timeoutMs ?? 20000)

function open (token, doc = new Y.Doc()) {
  const provider = new WebsocketProvider(args.server, args.doc, doc, {
    WebSocketPolyfill: WebSocket, params: { token }, disableBc: true
  })
  // `text` on first use: a page's body is an XmlFragment of the same name.
  return { doc, provider, get text () { return doc.getText('content') } }
}

function until (check) {
  return new Promise(resolve => {
    const poll = () => (check() ? resolve() : setTimeout(poll, 10))
    poll()
  })
}

const synced = peer => until(() => peer.provider.synced)

function finish (result, peers) {
  for (const peer of peers) peer.provider.destroy()
  console.log(JSON.stringify(result))
  process.exit(0)
}

async function converge () {
  // Two JS editors type while a Python editor does; all must end with the same text.
  const a = open(args.tokens[0])
  const b = open(args.tokens[1])
  await Promise.all([synced(a), synced(b)])
  for (let i = 0; i < args.edits; i++) {
    a.text.insert(a.text.length, `a${i} `)
    b.text.insert(0, `b${i} `)
    await new Promise(resolve => setTimeout(resolve, 5))
  }
  const done = peer => peer.text.toString().length === args.expectedLength
  await until(() => done(a) && done(b))
  finish({ a: a.text.toString(), b: b.text.toString() }, [a, b])
}

async function offline () {
  // A goes offline and edits; B edits meanwhile; A reconnects and both merge.
  const a = open(args.tokens[0])
  const b = open(args.tokens[1])
  await Promise.all([synced(a), synced(b)])
  a.text.insert(0, 'shared ')
  await until(() => b.text.toString().includes('shared'))
  a.provider.disconnect()
  a.text.insert(a.text.length, 'offline-A ')
  b.text.insert(b.text.length, 'online-B ')
  await new Promise(resolve => setTimeout(resolve, 100))
  a.provider.connect()
  const merged = peer => ['shared', 'offline-A', 'online-B'].every(w => peer.text.toString().includes(w))
  await until(() => merged(a) && merged(b))
  await until(() => a.text.toString() === b.text.toString())
  finish({ a: a.text.toString(), b: b.text.toString() }, [a, b])
}

async function readonly () {
  // The reader's edit is refused (auth message); the writer never sees it.
  const denials = []
  console.warn = (...parts) => denials.push(parts.join(' '))
  const writer = open(args.tokens[0])
  const reader = open(args.tokens[1])
  await Promise.all([synced(writer), synced(reader)])
  reader.text.insert(0, 'READER ')
  await until(() => denials.length > 0)
  writer.text.insert(writer.text.length, 'written')
  await until(() => reader.text.toString().includes('written'))
  finish({ writer: writer.text.toString(), reader: reader.text.toString(), denials }, [writer, reader])
}

async function names () {
  // A pupil's client calls itself a teacher; the others see the pupil's own name.
  const liar = open(args.tokens[0])
  const watcher = open(args.tokens[1])
  await Promise.all([synced(liar), synced(watcher)])
  liar.provider.awareness.setLocalStateField('user', { name: 'Ms. Sousa', color: '#ff0000' })
  const seen = () => watcher.provider.awareness.getStates().get(liar.doc.clientID)
  await until(() => seen()?.user?.color === '#ff0000')
  finish({ seen: seen() }, [liar, watcher])
}

// Records what stock clients send (sync steps, updates, awareness) as fuzzing seeds.
class Recording extends WebSocket {
  send (data, ...rest) {
    Recording.frames.push(Buffer.from(data).toString('base64'))
    return super.send(data, ...rest)
  }
}
Recording.frames = []

async function record () {
  const make = (token, doc = new Y.Doc()) => {
    const provider = new WebsocketProvider(args.server, args.doc, doc, {
      WebSocketPolyfill: Recording, params: { token }, disableBc: true
    })
    return { doc, provider }
  }
  const a = make(args.tokens[0])
  const b = make(args.tokens[1])
  await Promise.all([synced(a), synced(b)])
  const pause = () => new Promise(resolve => setTimeout(resolve, 20))
  a.provider.awareness.setLocalStateField('user', { name: 'A', color: '#30bced' })
  b.provider.awareness.setLocalStateField('user', { name: 'B', color: '#6eeb83' })
  a.provider.awareness.setLocalStateField('cursor', { anchor: 1, head: 3 })
  if (args.kind === 'text') {
    const text = a.doc.getText('content')
    text.insert(0, 'Hello world')
    await pause()
    text.format(0, 5, { bold: true })
    text.insert(5, ',')
    text.delete(0, 1)
    text.insertEmbed(3, { image: 'https://example.org/a.png' })
    b.doc.getText('content').insert(0, 'B says ')
    b.doc.getText('content').format(0, 1, { link: 'https://example.org' })
  } else {
    const fragment = a.doc.getXmlFragment('content')
    const heading = new Y.XmlElement('heading')
    heading.setAttribute('level', 2)
    heading.insert(0, [new Y.XmlText('Title')])
    const list = new Y.XmlElement('bulletList')
    const item = new Y.XmlElement('listItem')
    const paragraph = new Y.XmlElement('paragraph')
    const words = new Y.XmlText('item <one>')
    paragraph.insert(0, [words])
    item.insert(0, [paragraph])
    list.insert(0, [item])
    fragment.insert(0, [heading, list])
    await pause()
    words.format(0, 4, { bold: {}, link: { href: 'https://example.org' } })
    const quote = new Y.XmlElement('blockquote')
    quote.insert(0, [new Y.XmlElement('paragraph')])
    b.doc.getXmlFragment('content').insert(0, [quote, new Y.XmlElement('horizontalRule')])
    list.delete(0, 1)
  }
  b.provider.awareness.setLocalStateField('cursor', null)
  await pause()
  await pause()
  a.provider.disconnect()
  await pause()
  finish({ frames: Recording.frames }, [a, b])
}

async function page () {
  // Two editors of a page write paragraphs into its rich-text body (an XmlFragment).
  const a = open(args.tokens[0])
  const b = open(args.tokens[1])
  await Promise.all([synced(a), synced(b)])
  const paragraph = text => {
    const element = new Y.XmlElement('paragraph')
    element.insert(0, [new Y.XmlText(text)])
    return element
  }
  for (let i = 0; i < args.edits; i++) {
    a.doc.getXmlFragment('content').push([paragraph(`a${i}`)])
    b.doc.getXmlFragment('content').insert(0, [paragraph(`b${i}`)])
    await new Promise(resolve => setTimeout(resolve, 5))
  }
  const count = peer => peer.doc.getXmlFragment('content').length
  await until(() => count(a) === 2 * args.edits && count(b) === 2 * args.edits)
  const shown = peer => peer.doc.getXmlFragment('content').toString()
  await until(() => shown(a) === shown(b))
  finish({ a: shown(a), b: shown(b) }, [a, b])
}

const scenarios = { converge, offline, readonly, names, record, page }
scenarios[scenario]().catch(error => { console.log(JSON.stringify({ error: String(error) })); process.exit(1) })
