"""An erasure cut by kill -9 is finished by the next node: never half a member."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from sqlmodel import func, select

from tests.documents.test_cluster import node_env
from tests.privacy.test_erase_everywhere import wait_job
from tests.privacy.test_requests import token
from tests.support.live import HubClient, Live, NodeProcess, serve
from tests.support.room import make_room
from tests.support.waiting import WAIT
from twinspace_rt.settings import Settings
from twinspace_rt.storage.chat_models import ChatMessage
from twinspace_rt.storage.models import Membership, User
from twinspace_rt.storage.privacy_models import PrivacyJob

MESSAGES = 40
SLOW = {
    # One message per batch and a pause after each: the node is killed mid-step.
    "TWINSPACE_PRIVACY_BATCH_SIZE": "1",
    "TWINSPACE_PRIVACY_BATCH_PAUSE_MS": "100",
    "TWINSPACE_PRIVACY_JOB_LEASE_SECONDS": "2",
    "TWINSPACE_PRIVACY_POLL_SECONDS": "0.2",
}


async def count_by(live: Live, author_id: int) -> int:
    async with live.services.db.reader() as tx:
        found = await tx.exec(select(func.count()).where(ChatMessage.author_id == author_id))
        return found.one()


async def test_kill_9_mid_erasure_resumes_and_finishes_on_restart(
    settings: Settings, tmp_path: Path
) -> None:
    # The helper serves the test's requests; its own worker looks for jobs only every 10 min.
    helper_settings = settings.model_copy(update={"privacy_poll_seconds": 600})
    async with serve(helper_settings) as helper:
        room = await make_room(helper.http, helper.services)
        pupil = room.user_ids["pupil"]
        hub = await HubClient.connect(helper.url, room.project_id, token(room, "pupil"))
        for i in range(MESSAGES):
            await hub.ok("chat.send", channel="general", text=f"pupil line {i}", key=f"k{i}")
        await hub.close()
        env = {**node_env(settings, tmp_path / "node"), **SLOW}
        node = NodeProcess(env, tmp_path)
        try:
            await node.ready()
            async with httpx.AsyncClient(base_url=node.url, timeout=WAIT) as http:
                asked = await http.post(
                    f"/api/projects/{room.project_id}/members/{pupil}/erase",
                    headers=room.headers["teacher_admin"],
                )
            assert asked.status_code == 202, asked.text
            job_id = asked.json()["id"]
            async with helper.services.db.reader() as tx:
                job = await tx.get(PrivacyJob, job_id)
            assert job is not None and job.placeholder_id is not None
            async with asyncio.timeout(WAIT):
                while await count_by(helper, job.placeholder_id) < 3:
                    await asyncio.sleep(0.02)
            node.kill()
        finally:
            node.stop()
        # Killed in the middle: some of the pupil's messages are blanked, some not yet.
        left = await count_by(helper, pupil)
        assert 0 < left < MESSAGES
        async with helper.services.db.reader() as tx:
            job = await tx.get(PrivacyJob, job_id)
        assert job is not None and job.state == "running"

        restarted = NodeProcess(env, tmp_path)
        try:
            await restarted.ready()
            job = await wait_job(helper, job_id)
        finally:
            restarted.stop()
        assert await count_by(helper, pupil) == 0
        assert await count_by(helper, job.placeholder_id or 0) == MESSAGES
        async with helper.services.db.reader() as tx:
            assert await tx.get(User, pupil) is None
            memberships = await tx.exec(select(Membership).where(Membership.user_id == pupil))
            assert memberships.first() is None
            texts = await tx.exec(
                select(ChatMessage.text).where(ChatMessage.author_id == job.placeholder_id)
            )
            assert set(texts) == {"(removed)"}
