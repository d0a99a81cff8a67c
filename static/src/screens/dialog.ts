/** A modal question in a native <dialog>: focus is trapped and Escape cancels, for free. */

import { h, uid } from "../dom";
import { t } from "../i18n";

interface Question {
  title: string;
  label?: string;
  value?: string;
  confirm: string;
  danger?: boolean;
  /** More of the form below the field (a post's attachments); read by the caller once closed. */
  extra?: HTMLElement;
}

/** Resolves to the text entered (or "" without a field), or null when cancelled. */
export function ask(question: Question): Promise<string | null> {
  return new Promise((resolve) => {
    const fieldId = uid("answer");
    const field = question.label === undefined
      ? null
      : h("textarea", { id: fieldId, rows: 3, required: true, maxlength: 4000, dir: "auto" });
    if (field) field.value = question.value ?? "";
    const titleId = uid("dialog-title");
    const dialog = h(
      "dialog",
      { "aria-labelledby": titleId },
      h(
        "form",
        { method: "dialog" },
        h("h2", { id: titleId }, question.title),
        field ? h("label", { for: fieldId }, question.label ?? "") : null,
        field,
        question.extra ?? null,
        h(
          "div",
          { class: "dialog-buttons" },
          h("button", { type: "button", class: "secondary", onclick: () => dialog.close("") }, t("common.cancel")),
          h("button", { type: "submit", value: "ok", class: question.danger ? "danger" : "" }, question.confirm),
        ),
      ),
    );
    dialog.addEventListener("close", () => {
      const ok = dialog.returnValue === "ok";
      dialog.remove();
      resolve(ok ? (field?.value.trim() ?? "") : null);
    });
    document.body.append(dialog);
    dialog.showModal();
    field?.focus();
  });
}
