/** Sign in: teachers and pupils alike, with the username and password they were given. */

import { api } from "../api";
import { h, replace, uid } from "../dom";
import { t } from "../i18n";
import { saveSession } from "../session";
import { errorText } from "./errors";

export function renderLogin(main: HTMLElement, notice: string | null, done: () => void): void {
  const userId = uid("username");
  const passId = uid("password");
  const username = h("input", { id: userId, name: "username", autocomplete: "username", dir: "auto", required: true });
  const password = h("input", {
    id: passId,
    name: "password",
    type: "password",
    autocomplete: "current-password",
    required: true,
  });
  const status = h("p", { class: "form-error", role: "alert" }, notice ?? "");
  const submit = h("button", { type: "submit" }, t("login.submit"));
  const form = h(
    "form",
    {
      class: "card login",
      onsubmit: async (event: Event) => {
        event.preventDefault();
        submit.disabled = true;
        status.textContent = "";
        try {
          saveSession(await api.login(username.value.trim(), password.value));
          done();
        } catch (error) {
          status.textContent = errorText(error);
          submit.disabled = false;
          password.select();
        }
      },
    },
    h("h1", {}, t("login.title")),
    h("p", { class: "hint" }, t("login.intro")),
    h("label", { for: userId }, t("login.username")),
    username,
    h("label", { for: passId }, t("login.password")),
    password,
    status,
    submit,
  );
  replace(main, form);
  username.focus();
}
