/**
 * "Change my password", for everyone; and the same form as the only screen an account on a
 * printed one-time password sees (the server allows that account nothing else until then).
 */

import { api } from "../api";
import { h, replace, uid } from "../dom";
import { t } from "../i18n";
import { currentSession, saveSession } from "../session";
import { errorText } from "./errors";

const MIN_LENGTH = 8;

export function renderPassword(main: HTMLElement, done: () => void): void {
  const session = currentSession();
  const first = session?.user.must_change_password ?? false;
  const field = (name: string, label: string, autocomplete: string) => {
    const id = uid(name);
    const input = h("input", { id, name, type: "password", autocomplete, required: true });
    return { input, nodes: [h("label", { for: id }, label), input] };
  };
  const current = field("current-password", first ? t("password.printed") : t("password.current"), "current-password");
  const fresh = field("new-password", t("password.new"), "new-password");
  const again = field("new-password-again", t("password.again"), "new-password");
  fresh.input.minLength = MIN_LENGTH;
  again.input.minLength = MIN_LENGTH;
  const hintId = uid("password-hint");
  fresh.input.setAttribute("aria-describedby", hintId);
  const status = h("p", { class: "form-error", role: "alert" });
  const saved = h("p", { class: "notice", role: "status" });
  const submit = h("button", { type: "submit" }, t("password.submit"));
  const form = h(
    "form",
    {
      class: "card login password-form",
      onsubmit: async (event: Event) => {
        event.preventDefault();
        status.textContent = "";
        saved.textContent = "";
        if (fresh.input.value !== again.input.value) {
          status.textContent = t("password.mismatch");
          again.input.select();
          return;
        }
        submit.disabled = true;
        try {
          const changed = await api.changePassword(current.input.value, fresh.input.value);
          const { token, expires_at, ...user } = changed;
          saveSession({ token, expires_at, user });
          for (const input of [current.input, fresh.input, again.input]) input.value = "";
          saved.textContent = t("password.saved");
          if (first) done();
        } catch (error) {
          status.textContent = errorText(error);
          current.input.select();
        } finally {
          submit.disabled = false;
        }
      },
    },
    h("h1", {}, first ? t("password.first_title") : t("password.title")),
    first ? h("p", { class: "hint" }, t("password.first_intro")) : null,
    ...current.nodes,
    ...fresh.nodes,
    h("p", { class: "hint", id: hintId }, t("password.rule", { count: MIN_LENGTH })),
    ...again.nodes,
    status,
    saved,
    submit,
  );
  replace(main, form);
  current.input.focus();
}
