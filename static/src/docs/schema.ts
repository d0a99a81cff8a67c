/**
 * The rich-text schema. Node and mark names are TipTap's (`bulletList`, `listItem`, `bold`…):
 * the server renders a document's `content` XmlFragment to text, Markdown and HTML by these
 * names (docs/PROTOCOL.md), and a TipTap client opening the same document reads it unchanged.
 */

import { type DOMOutputSpec, Schema } from "prosemirror-model";

const p: DOMOutputSpec = ["p", 0];

export const schema = new Schema({
  nodes: {
    doc: { content: "block+" },
    paragraph: { group: "block", content: "inline*", parseDOM: [{ tag: "p" }], toDOM: () => p },
    heading: {
      group: "block",
      content: "inline*",
      attrs: { level: { default: 2 } },
      defining: true,
      parseDOM: [1, 2, 3].map((level) => ({ tag: `h${level}`, attrs: { level } })),
      // The document's own headings sit below the screen's h1 and h2.
      toDOM: (node) => [`h${Math.min(6, Number(node.attrs.level) + 2)}`, 0],
    },
    blockquote: { group: "block", content: "block+", defining: true, parseDOM: [{ tag: "blockquote" }], toDOM: () => ["blockquote", 0] },
    bulletList: { group: "block", content: "listItem+", parseDOM: [{ tag: "ul" }], toDOM: () => ["ul", 0] },
    orderedList: { group: "block", content: "listItem+", parseDOM: [{ tag: "ol" }], toDOM: () => ["ol", 0] },
    listItem: { content: "paragraph block*", defining: true, parseDOM: [{ tag: "li" }], toDOM: () => ["li", 0] },
    codeBlock: {
      group: "block",
      content: "text*",
      marks: "",
      code: true,
      defining: true,
      parseDOM: [{ tag: "pre", preserveWhitespace: "full" }],
      toDOM: () => ["pre", ["code", 0]],
    },
    horizontalRule: { group: "block", parseDOM: [{ tag: "hr" }], toDOM: () => ["hr"] },
    // A page's embed (docs/PROTOCOL.md, "Embeds"): only a kind and a ref; what it shows is
    // resolved by the server for each reader and drawn by a node view (pages/embeds.ts).
    embed: {
      group: "block",
      atom: true,
      selectable: true,
      draggable: false,
      attrs: { kind: { default: "material" }, ref: { default: "" } },
      parseDOM: [{ tag: "div[data-embed-kind]", getAttrs: (dom) => ({ kind: (dom as HTMLElement).dataset.embedKind, ref: (dom as HTMLElement).dataset.embedRef }) }],
      toDOM: (node) => ["div", { class: "embed", "data-embed-kind": String(node.attrs.kind), "data-embed-ref": String(node.attrs.ref) }],
    },
    hardBreak: { group: "inline", inline: true, selectable: false, parseDOM: [{ tag: "br" }], toDOM: () => ["br"] },
    text: { group: "inline" },
  },
  marks: {
    bold: { parseDOM: [{ tag: "strong" }, { tag: "b" }], toDOM: () => ["strong", 0] },
    italic: { parseDOM: [{ tag: "em" }, { tag: "i" }], toDOM: () => ["em", 0] },
    strike: { parseDOM: [{ tag: "s" }, { tag: "del" }], toDOM: () => ["s", 0] },
    code: { parseDOM: [{ tag: "code" }], toDOM: () => ["code", 0] },
    link: {
      attrs: { href: {} },
      inclusive: false,
      parseDOM: [{ tag: "a[href]", getAttrs: (dom) => ({ href: (dom as HTMLElement).getAttribute("href") }) }],
      toDOM: (mark) => ["a", { href: safeHref(String(mark.attrs.href)), rel: "noopener noreferrer", target: "_blank" }, 0],
    },
  },
});

/** Only web and mail addresses become links; anything else (`javascript:`…) is inert. */
function safeHref(href: string): string {
  return /^(https?:|mailto:)/i.test(href) ? href : "#";
}
