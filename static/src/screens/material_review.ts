/**
 * The teachers' part of the materials overview: the pupils' upload setting, the queue of
 * pupils' uploads waiting for review (approve, reject, or open to look first), and the form
 * for a new album or folder.
 */

import { h, uid } from "../dom";
import { type Key, t, tk } from "../i18n";
import { type CollectionKind, type Material, type PupilUploads, materials } from "../materials/api";
import { attempt } from "./feature_errors";
import { type MaterialsHost, byline, preview } from "./materials";

const SETTINGS: [PupilUploads, Key][] = [
  ["off", tk("materials.setting_off")],
  ["review", tk("materials.setting_review")],
  ["open", tk("materials.setting_open")],
];

export function reviewPanel(host: MaterialsHost, setting: PupilUploads, queue: Material[], open: (m: Material) => void): HTMLElement {
  const p = host.client.projectId;
  const settingId = uid("pupil-uploads");
  const select = h(
    "select",
    {
      id: settingId,
      "data-control": "pupil-uploads",
      onchange: () =>
        void attempt(host.status, async () => {
          await materials.setPupilUploads(p, select.value as PupilUploads);
          host.notice.textContent = t("materials.setting_saved");
        }),
    },
    ...SETTINGS.map(([value, label]) => h("option", { value, selected: value === setting }, t(label))),
  );
  const verdict = (material: Material, choice: "approve" | "reject") =>
    void attempt(host.status, async () => {
      await materials.review(p, material.id, choice);
      host.notice.textContent = choice === "approve" ? t("materials.approved") : t("materials.rejected");
      await host.reload();
    });
  const rows = queue.map((material) =>
    h(
      "li",
      { class: "review-row", id: `review-${material.id}` },
      h(
        "button",
        { type: "button", class: "tile-open", "data-control": "open", onclick: () => open(material) },
        preview(p, material, "small"),
        h("span", { class: "tile-title" }, h("bdi", {}, material.title || material.filename)),
      ),
      h("p", { class: "meta" }, byline(host.names, material)),
      h(
        "div",
        { class: "row-actions" },
        h("button", { type: "button", "data-control": "approve", onclick: () => verdict(material, "approve") }, t("materials.approve")),
        h("button", { type: "button", class: "secondary", "data-control": "reject", onclick: () => verdict(material, "reject") }, t("materials.reject")),
      ),
    ),
  );
  return h(
    "section",
    { class: "review-panel" },
    h("p", {}, h("label", { for: settingId }, t("materials.setting")), select),
    h("h2", {}, t("materials.review_title", { count: queue.length })),
    rows.length > 0 ? h("ul", { class: "review-list" }, ...rows) : h("p", { class: "empty" }, t("materials.review_empty")),
  );
}

export function collectionForm(host: MaterialsHost): HTMLElement {
  const ids = { kind: uid("kind"), title: uid("title"), description: uid("description"), pupils: uid("pupils") };
  const kind = h(
    "select",
    { id: ids.kind },
    h("option", { value: "album" }, t("materials.kind_album")),
    h("option", { value: "folder" }, t("materials.kind_folder")),
  );
  const title = h("input", { id: ids.title, required: true, maxlength: 200, dir: "auto" });
  const description = h("textarea", { id: ids.description, rows: 2, maxlength: 2000, dir: "auto" });
  const pupils = h("input", { type: "checkbox", id: ids.pupils, class: "inline-check", checked: true });
  const form = h(
    "form",
    {
      class: "board-form",
      onsubmit: (event: Event) => {
        event.preventDefault();
        void attempt(host.status, async () => {
          await materials.createCollection(host.client.projectId, kind.value as CollectionKind, title.value.trim(), description.value.trim(), pupils.checked);
          form.reset();
          await host.reload();
        });
      },
    },
    h("h2", {}, t("materials.new_collection")),
    h("label", { for: ids.kind }, t("materials.kind")),
    kind,
    h("label", { for: ids.title }, t("materials.collection_title")),
    title,
    h("label", { for: ids.description }, t("materials.collection_description")),
    description,
    h("p", {}, h("label", { class: "check", for: ids.pupils }, pupils, t("materials.pupils_may_upload"))),
    h("button", { type: "submit" }, t("materials.create")),
  );
  return form;
}
