/**
 * What teachers change in the materials: the order of albums, folders and the materials in
 * them (earlier / later, by keyboard as by mouse), and an album's or folder's title,
 * description and whether pupils may upload into it. Every change is pushed to the room.
 */

import { h, uid } from "../dom";
import { t } from "../i18n";
import { type Collection, materials } from "../materials/api";
import { attempt } from "./feature_errors";
import type { MaterialsHost } from "./materials";

/** Moves `list[index]` by `step` and saves the positions that changed (0, 1, 2… in order). */
async function reorder<T extends { position: number }>(list: T[], index: number, step: number, save: (item: T, position: number) => Promise<unknown>): Promise<void> {
  const target = index + step;
  if (target < 0 || target >= list.length) return;
  const order = [...list];
  const [moved] = order.splice(index, 1);
  order.splice(target, 0, moved);
  for (const [position, item] of order.entries()) {
    if (item.position !== position) await save(item, position);
  }
}

/** "Earlier" and "Later" for one item of an ordered list; `name` says which item to a screen reader. */
export function moveButtons<T extends { id: number; position: number }>(host: MaterialsHost, list: T[], item: T, name: string, save: (item: T, position: number) => Promise<unknown>): HTMLElement {
  const index = list.indexOf(item);
  const move = (step: number) => () =>
    void attempt(host.status, async () => {
      await reorder(list, index, step, save);
      await host.reload();
    });
  return h(
    "div",
    { class: "move-buttons", role: "group", "aria-label": name, id: `move-${item.id}` },
    h("button", { type: "button", class: "secondary", "data-control": "earlier", disabled: index === 0, onclick: move(-1) }, t("materials.earlier")),
    h("button", { type: "button", class: "secondary", "data-control": "later", disabled: index === list.length - 1, onclick: move(1) }, t("materials.later")),
  );
}

/** The form that changes an album or folder; made once per view so typing survives pushes. */
export function collectionEditor(host: MaterialsHost, collection: Collection): HTMLElement {
  const ids = { title: uid("title"), description: uid("description"), pupils: uid("pupils") };
  const title = h("input", { id: ids.title, required: true, maxlength: 200, dir: "auto", value: collection.title });
  const description = h("textarea", { id: ids.description, rows: 2, maxlength: 2000, dir: "auto" });
  description.value = collection.description;
  const pupils = h("input", { type: "checkbox", id: ids.pupils, class: "inline-check", checked: collection.pupils_may_upload });
  return h(
    "details",
    { class: "board-form collection-editor" },
    h("summary", {}, t("materials.edit_collection")),
    h(
      "form",
      {
        onsubmit: (event: Event) => {
          event.preventDefault();
          void attempt(host.status, async () => {
            await materials.changeCollection(host.client.projectId, collection.id, {
              title: title.value.trim(),
              description: description.value.trim(),
              pupils_may_upload: pupils.checked,
            });
            host.notice.textContent = t("materials.setting_saved");
            await host.reload();
          });
        },
      },
      h("label", { for: ids.title }, t("materials.collection_title")),
      title,
      h("label", { for: ids.description }, t("materials.collection_description")),
      description,
      h("p", {}, h("label", { class: "check", for: ids.pupils }, pupils, t("materials.pupils_may_upload"))),
      h("button", { type: "submit" }, t("common.save")),
    ),
  );
}
