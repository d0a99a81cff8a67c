"""Simulcast through Janus, from a browser: Chromium publishes three layers of a camera, another
Chromium page subscribes, and `rtc.layer` changes the resolution it receives (its `getStats`
shows it).

Chromium runs inside the test's network namespace, like the aiortc peers (Playwright drives it
over a pipe, which crosses namespaces); the page is blank and signals only through this test,
which relays to the hub as the web client would. The camera is a canvas stream (no device, no
permission prompt), and Chromium's mDNS masking of host addresses is off so that Janus, which
ignores mDNS candidates, can reach it.
"""

from __future__ import annotations

import shutil
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, async_playwright

from tests.chat.test_chat import connect
from tests.support.janus import Janus
from tests.support.live import Live
from tests.support.room import make_room
from tests.support.services import service_missing
from tests.support.waiting import eventually_async
from tests.video.sfu_support import janus, sfu_live

__all__ = ["janus", "sfu_live"]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

GATHERED = """
pc => new Promise(done => {
  if (pc.iceGatheringState === "complete") return done();
  pc.addEventListener("icegatheringstatechange", () => {
    if (pc.iceGatheringState === "complete") done();
  });
})
"""

PUBLISH = (
    """
async () => {
  const gathered = """
    + GATHERED
    + """;
  const canvas = document.createElement("canvas");
  canvas.width = 640;
  canvas.height = 360;
  const context = canvas.getContext("2d");
  let tick = 0;
  setInterval(() => {
    context.fillStyle = `hsl(${(tick += 7) % 360}, 70%, 50%)`;
    context.fillRect(0, 0, 640, 360);
    for (let i = 0; i < 40; i++) {
      context.fillStyle = `rgb(${Math.random() * 255}, ${Math.random() * 255}, 90)`;
      context.fillRect(Math.random() * 640, Math.random() * 360, 16, 16);
    }
  }, 33);
  const track = canvas.captureStream(30).getVideoTracks()[0];
  const pc = new RTCPeerConnection();
  window.publisher = pc;
  const { sender } = pc.addTransceiver(track, {
    direction: "sendonly",
    // Janus takes the layers in this order: highest first.
    sendEncodings: [
      { rid: "h" },
      { rid: "m", scaleResolutionDownBy: 2 },
      { rid: "l", scaleResolutionDownBy: 4 },
    ],
  });
  // A busy test machine must not make Chromium shrink or drop layers.
  const parameters = sender.getParameters();
  parameters.degradationPreference = "maintain-resolution";
  await sender.setParameters(parameters);
  await pc.setLocalDescription(await pc.createOffer());
  await gathered(pc);
  return pc.localDescription.sdp;
}
"""
)

SUBSCRIBE = (
    """
async offer => {
  const gathered = """
    + GATHERED
    + """;
  const pc = new RTCPeerConnection();
  window.subscriber = pc;
  await pc.setRemoteDescription({ type: "offer", sdp: offer });
  await pc.setLocalDescription(await pc.createAnswer());
  await gathered(pc);
  return pc.localDescription.sdp;
}
"""
)

# The width each layer is sent at, once the publisher sends all three.
SENT_WIDTHS = """
async () => {
  const widths = [];
  for (const report of (await window.publisher.getStats()).values()) {
    if (report.type === "outbound-rtp" && report.frameWidth) widths.push(report.frameWidth);
  }
  return widths.sort((a, b) => a - b);
}
"""

RECEIVED_WIDTH = """
async () => {
  for (const report of (await window.subscriber.getStats()).values()) {
    if (report.type === "inbound-rtp" && report.kind === "video") return report.frameWidth || 0;
  }
  return 0;
}
"""


@pytest.fixture
async def chromium(janus: Janus, tmp_path: Path) -> AsyncIterator[Browser]:
    if not Path(CHROMIUM).exists():
        service_missing("Chromium", f"{CHROMIUM} is missing; `make test` installs it")
    wrapper = tmp_path / "chromium-in-namespace"
    command = " ".join(janus.in_namespace(CHROMIUM))
    wrapper.write_text(f'#!/bin/sh\nexec {command} "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(wrapper),
            args=[
                "--disable-features=WebRtcHideLocalIpsWithMdns",
                # Three layers even below 960x540, as the encodings ask.
                "--force-fieldtrials=WebRTC-LegacySimulcastLayerLimit/Disabled/",
            ],
        )
        try:
            yield browser
        finally:
            await browser.close()


async def _width(page: Page) -> int:
    width: Any = await page.evaluate(RECEIVED_WIDTH)
    return int(width)


async def test_a_subscriber_switches_simulcast_layers_of_a_browser(
    sfu_live: Live, janus: Janus, chromium: Browser
) -> None:
    live = sfu_live
    room = await make_room(live.http, live.services)
    teacher = await connect(live, room, "teacher_admin")
    pupil = await connect(live, room, "pupil")
    await teacher.ok("rtc.start", max_participants=30)
    teacher_id = (await teacher.ok("rtc.join"))["participant_id"]
    await pupil.ok("rtc.join")

    sender = await chromium.new_page()
    offer = await sender.evaluate(PUBLISH)
    assert "a=simulcast:send" in offer
    ack = await teacher.ok("rtc.publish", description={"type": "offer", "sdp": offer})
    await sender.evaluate(
        "answer => window.publisher.setRemoteDescription({type: 'answer', sdp: answer})",
        ack["description"]["sdp"],
    )
    await pupil.wait_for("rtc.feed", participant_id=teacher_id, live=True)

    async def sends_three_layers() -> bool:
        return list(await sender.evaluate(SENT_WIDTHS)) == [160, 320, 640]

    await eventually_async(sends_three_layers, interval=0.2)

    receiver = await chromium.new_page()
    ack = await pupil.ok("rtc.subscribe", participant_id=teacher_id)
    answer = await receiver.evaluate(SUBSCRIBE, ack["description"]["sdp"])
    subscription = ack["subscription"]
    await pupil.ok(
        "rtc.answer", subscription=subscription, description={"type": "answer", "sdp": answer}
    )

    async def receives(width: int) -> bool:
        return await _width(receiver) == width

    # Each layer asked for arrives at its own resolution (at the layer's next keyframe):
    # a quarter, a half, the whole camera.
    for substream, width in ((0, 160), (2, 640), (0, 160), (1, 320), (2, 640), (1, 320)):
        await pupil.ok("rtc.layer", subscription=subscription, substream=substream)
        await eventually_async(lambda w=width: receives(w), interval=0.2)
