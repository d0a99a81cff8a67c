"""What the SFU browser test reads from its pages: each peer connection's decoded video
(`getStats`, as frames and width), what each connection sends, and keyboard moves."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from playwright.async_api import Page

from tests.support.waiting import WAIT

Found = list[dict[str, int] | None]

# Per peer connection of the page: the width of the video it decodes (0: none yet) and the
# frames decoded so far.
INBOUND = """async () => {
  const found = [];
  for (const pc of window.__peers ?? []) {
    if (pc.connectionState === "closed") { found.push(null); continue; }
    let width = 0, frames = 0;
    (await pc.getStats()).forEach((s) => {
      if (s.type === "inbound-rtp" && s.kind === "video") { width = s.frameWidth ?? 0; frames = s.framesDecoded ?? 0; }
    });
    found.push({ width, frames });
  }
  return found;
}"""


async def inbound(page: Page) -> Found:
    found: Found = await page.evaluate(INBOUND)
    return found


async def until(page: Page, test: str, check: Callable[[Found], bool]) -> Found:
    """Polls the page's inbound video until `check` holds (getStats is a promise, which
    `wait_for_function` would take as truthy); fails after the suite's bound."""
    try:
        async with asyncio.timeout(WAIT):
            while True:
                found = await inbound(page)
                if check(found):
                    return found
                await asyncio.sleep(0.25)
    except TimeoutError:
        raise AssertionError(f"{test}: {await inbound(page)}") from None


def decoding(count: int) -> Callable[[Found], bool]:
    """At least `count` live connections decode video."""
    return lambda found: sum(1 for s in found if s and s["frames"] > 0) >= count


async def tab_to(page: Page, control: str, most: int = 80) -> None:
    """Tab forward (keyboard only) until the control named `data-control` has the focus."""
    for _ in range(most):
        await page.keyboard.press("Tab")
        if await page.evaluate(f"document.activeElement?.dataset?.control === {control!r}"):
            return
    raise AssertionError(f"{control!r} was not reached in {most} Tab presses")


# What each open connection of the page sends (a subscription sends nothing).
SENT = """() => (window.__peers ?? [])
    .filter((pc) => pc.connectionState !== "closed")
    .map((pc) => pc.getSenders().filter((s) => s.track).map((s) => s.track.kind).sort().join())
    .filter((kinds) => kinds)"""


async def sending(page: Page, expected: list[str]) -> None:
    try:
        async with asyncio.timeout(WAIT):
            while await page.evaluate(SENT) != expected:
                await asyncio.sleep(0.25)
    except TimeoutError:
        raise AssertionError(f"sends {await page.evaluate(SENT)}, not {expected}") from None


# The video frames decoded so far for the camera tile whose name holds `name`: the inbound video
# of the connection that delivers the tile's track (-1 while the tile has none).
TILE_FRAMES = """async (name) => {
  const tile = [...document.querySelectorAll(".video-stage .tile:not(.screen)")]
    .find((t) => t.querySelector(".tile-name")?.textContent.includes(name));
  const track = tile?.querySelector("video")?.srcObject?.getVideoTracks()[0];
  const pc = (window.__peers ?? []).find((pc) => pc.connectionState !== "closed"
    && pc.getReceivers().some((r) => r.track === track));
  if (!track || !pc) return -1;
  let frames = -1;
  (await pc.getStats(track)).forEach((s) => {
    if (s.type === "inbound-rtp") frames = s.framesDecoded ?? 0;
  });
  return frames;
}"""


async def tile_decodes(page: Page, name: str, more: int = 10) -> None:
    """Waits until the tile of `name` has decoded `more` frames after its first decoded one:
    its picture comes from a live connection and keeps coming."""
    start = None
    frames = -1
    try:
        async with asyncio.timeout(WAIT):
            while True:
                frames = await page.evaluate(TILE_FRAMES, name)
                if start is None and frames > 0:
                    start = frames
                if start is not None and frames >= start + more:
                    return
                await asyncio.sleep(0.25)
    except TimeoutError:
        raise AssertionError(f"{name}'s tile decoded {frames} frames") from None


# Counts the hub's `media_unavailable` answers to the page's `rtc.publish` requests
# (`window.__refusedPublishes`): an init script, so that it wraps the page's hub socket.
COUNT_REFUSED_PUBLISHES = """(() => {
  const Original = window.WebSocket;
  window.__refusedPublishes = 0;
  window.WebSocket = function (...args) {
    const socket = new Original(...args);
    const publishes = new Set();
    const send = socket.send.bind(socket);
    socket.send = (data) => {
      const frame = JSON.parse(data);
      if (frame.type === "rtc.publish") publishes.add(frame.id);
      send(data);
    };
    socket.addEventListener("message", (event) => {
      const frame = JSON.parse(event.data);
      if (frame.type === "error" && frame.code === "media_unavailable" && publishes.has(frame.id))
        window.__refusedPublishes += 1;
    });
    return socket;
  };
  window.WebSocket.prototype = Original.prototype;
  for (const name of ["CONNECTING", "OPEN", "CLOSING", "CLOSED"]) window.WebSocket[name] = Original[name];
})();"""


async def refused_publishes(page: Page) -> None:
    """Until the hub refused one of the page's publishes as `media_unavailable`."""
    try:
        async with asyncio.timeout(WAIT):
            while not await page.evaluate("() => window.__refusedPublishes"):
                await asyncio.sleep(0.25)
    except TimeoutError:
        raise AssertionError("no publish was refused as media_unavailable") from None
