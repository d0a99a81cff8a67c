/** Boot and routing: `#/` sign in or my projects, `#/p/<id>/<view>/<ref>` a room. */

import "./styles.css";
import { whenPasswordChangeRequired, whenSessionEnds } from "./api";
import { applyToDocument, onLanguageChange, t } from "./i18n";
import { renderAccount } from "./screens/account";
import { renderLogin } from "./screens/login";
import { renderPassword } from "./screens/password";
import { renderProjects } from "./screens/projects";
import { RoomScreen } from "./screens/room";
import { renderShell } from "./screens/shell";
import { currentSession, saveSession, signOut } from "./session";

const root = document.getElementById("app") as HTMLElement;
let room: RoomScreen | null = null;
let endedNotice: string | null = null;

function route(): void {
  const session = currentSession();
  const parts = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  if (!session) {
    leaveRoom();
    const main = renderShell(root, null);
    renderLogin(main, endedNotice, () => {
      endedNotice = null;
      location.hash = "#/projects";
      route();
    });
    return;
  }
  // An account on its printed one-time password may do nothing else (the server enforces it).
  if (session.user.must_change_password || parts[0] === "password") {
    leaveRoom();
    renderPassword(renderShell(root, session.user), () => {
      location.hash = "#/projects";
      route();
    });
    return;
  }
  if (parts[0] === "account") {
    leaveRoom();
    renderAccount(renderShell(root, session.user), session.user, () => {
      signOut();
      endedNotice = t("account.erased");
      location.hash = "#/";
      route();
    });
    return;
  }
  if (parts[0] === "p" && /^\d+$/.test(parts[1] ?? "")) {
    const projectId = Number(parts[1]);
    if (room === null || room.projectId !== projectId) {
      leaveRoom();
      const main = renderShell(root, session.user);
      room = new RoomScreen(main, projectId, session.token, session.user);
    }
    room.show(parts[2] ?? "chat", parts[3] ?? null);
    return;
  }
  leaveRoom();
  const main = renderShell(root, session.user);
  void renderProjects(main, session.user);
}

function leaveRoom(): void {
  room?.close();
  room = null;
}

/** An expired or revoked session: back to sign-in, saying why. */
function sessionEnded(): void {
  signOut();
  endedNotice = t("login.session_ended");
  location.hash = "#/";
  route();
}

/** The server holds this account to its first password change: show that form. */
function passwordChangeRequired(): void {
  const session = currentSession();
  if (!session || session.user.must_change_password) return;
  saveSession({ ...session, user: { ...session.user, must_change_password: true } });
  route();
}

whenSessionEnds(sessionEnded);
whenPasswordChangeRequired(passwordChangeRequired);
RoomScreen.onSessionEnded = sessionEnded;
applyToDocument();
window.addEventListener("hashchange", route);
onLanguageChange(() => {
  // A room keeps its connection; only its elements are rebuilt, in the new language.
  if (room) room.remount(renderShell(root, currentSession()?.user ?? null));
  else route();
});
route();
