/**
 * Materials attached to journal posts, forum posts and chat messages (issue 15), the one
 * client side of `projects/attachments.py`: the "Attach materials" picker of every composer,
 * and the drawing of what a post or message carries. The picker lists the project's approved
 * materials, loaded when first opened, as checkboxes: usable from the keyboard. A material
 * rejected or removed since it was attached is drawn as an "unavailable" line, never as a
 * broken image; the others through the materials' signed links, as page embeds are.
 */

import "./attachments.css";
import { h, replace, uid } from "../dom";
import { t } from "../i18n";
import type { Attached } from "../materials/api";
import { attempt } from "./feature_errors";

export interface AttachPicker {
  /** The `<details>` to place in a form. */
  readonly element: HTMLDetailsElement;
  /** Those still ticked of the ones attached before, in their order, then the newly ticked. */
  chosen(): number[];
  /** Unticks everything and closes, once a post is sent. */
  clear(): void;
}

/** The picker of a composer (or an edit dialog, with `attached` ticked); errors go to `status`. */
export function attachPicker(project: number, status: HTMLElement, attached: number[] = []): AttachPicker {
  const choices = h("div", { class: "attach-list" });
  const element = h("details", { class: "attach-picker" }, h("summary", {}, t("attach.materials")), choices);
  element.addEventListener("toggle", () => {
    if (element.open && !choices.hasChildNodes()) void loadChoices(project, status, choices, attached);
  });
  return {
    element,
    chosen(): number[] {
      // Never opened: the attachments stay as they were.
      if (!choices.hasChildNodes()) return attached;
      const ticked = [...choices.querySelectorAll<HTMLInputElement>("input:checked")].map((box) => Number(box.value));
      return [...attached.filter((id) => ticked.includes(id)), ...ticked.filter((id) => !attached.includes(id))];
    },
    clear(): void {
      for (const box of choices.querySelectorAll<HTMLInputElement>("input:checked")) box.checked = false;
      element.open = false;
    },
  };
}

/** The approved materials to attach, as checkboxes (at most ten are accepted). */
async function loadChoices(project: number, status: HTMLElement, host: HTMLElement, attached: number[]): Promise<void> {
  await attempt(status, async () => {
    const { approvedMaterials } = await import("../pages/embeds");
    const found = await approvedMaterials(project);
    replace(
      host,
      ...(found.length === 0
        ? [h("p", { class: "empty" }, t("pages.embed_none"))]
        : found.map(([value, label]) => {
            const boxId = uid("attach");
            const box = h("input", { type: "checkbox", id: boxId, value });
            box.checked = attached.includes(Number(value));
            return h("div", { class: "check" }, box, h("label", { for: boxId }, label));
          })),
    );
  });
}

/** What a post or message carries, drawn once the signed links arrive (null: nothing). */
export function attachedMaterials(project: number, materials: Attached[]): HTMLElement | null {
  if (materials.length === 0) return null;
  const host = h("div", { class: "attached-materials" });
  const unavailable = (): HTMLElement => h("p", { class: "meta attach-unavailable", dir: "auto" }, t("attach.unavailable"));
  void import("../pages/embeds").then(async ({ materialElements }) => {
    for (const material of materials) {
      const figure = h("figure", { class: "embed" });
      host.append(figure);
      if (!material.available) {
        replace(figure, unavailable());
        continue;
      }
      try {
        replace(figure, ...(await materialElements(project, material)));
      } catch {
        replace(figure, unavailable());
      }
    }
  });
  return host;
}

/**
 * Drawn attachments kept across re-renders by the post or message (`key`) and what it carries
 * now, so that a live list redrawn on every change neither asks for new links nor restarts a
 * playing video. The oldest are forgotten past `most`.
 */
export class AttachmentDrawings {
  private readonly drawn = new Map<string, HTMLElement | null>();

  constructor(
    private readonly project: number,
    private readonly most = 300,
  ) {}

  element(key: string, materials: Attached[]): HTMLElement | null {
    key = `${key}:${materials.map((m) => (m.available ? m.id : "-")).join(",")}`;
    let found = this.drawn.get(key);
    if (found === undefined) {
      found = attachedMaterials(this.project, materials);
      this.drawn.set(key, found);
      if (this.drawn.size > this.most) this.drawn.delete(this.drawn.keys().next().value as string);
    }
    return found;
  }
}
