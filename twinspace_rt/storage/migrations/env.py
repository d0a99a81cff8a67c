"""Alembic environment: migrations always run on a connection handed in by ``migrate.py``."""

from alembic import context
from sqlmodel import SQLModel

import twinspace_rt.storage.chat_models  # noqa: F401  (registers the tables on the metadata)
import twinspace_rt.storage.document_models  # noqa: F401
import twinspace_rt.storage.forum_models  # noqa: F401
import twinspace_rt.storage.login_models  # noqa: F401
import twinspace_rt.storage.material_models  # noqa: F401
import twinspace_rt.storage.models  # noqa: F401
import twinspace_rt.storage.page_models  # noqa: F401
import twinspace_rt.storage.privacy_models  # noqa: F401
import twinspace_rt.storage.video_models  # noqa: F401

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `twinspace-rt db upgrade`")

context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
