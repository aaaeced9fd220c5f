"""${message}

Schema version ${up_revision}: what changed and what the upgrade does with existing rows.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from pomdpbench.store.migrations import set_schema_version

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Move schema ${down_revision} to ${up_revision} without losing a row."""
    ${upgrades if upgrades else "pass"}
    set_schema_version(${up_revision})
