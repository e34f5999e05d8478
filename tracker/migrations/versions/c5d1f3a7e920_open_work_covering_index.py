"""a unit's open work off its index alone: ix_assignment_open holds every column that
我的待办's queries test (the urgent items chosen, the items in hand counted, read 2,300
rows of the table for a unit of the loadtest)

Revision ID: c5d1f3a7e920
Revises: b7e2d4f8a150
Create Date: 2026-12-07 12:40:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c5d1f3a7e920'
down_revision = 'b7e2d4f8a150'
branch_labels = None
depends_on = None

# as tracker.models.assignment_unanswered() renders, on each database
UNANSWERED = (
    "active IS {true} AND (role = 'co' AND opinion_on IS NULL"
    " OR role != 'co' AND replied_on IS NULL)"
)
BEFORE = ['unit_id', 'due_on', 'id']
COVERING = [
    'unit_id',
    'due_on',
    'id',
    'role',
    'signed_for_at',
    'active',
    'opinion_on',
    'replied_on',
    'proposal_id',
    'round',
]


def _open_index(columns):
    op.drop_index('ix_assignment_open', table_name='assignment')
    op.create_index(
        'ix_assignment_open',
        'assignment',
        columns,
        sqlite_where=sa.text(UNANSWERED.format(true="1")),
        postgresql_where=sa.text(UNANSWERED.format(true="true")),
    )


def upgrade():
    _open_index(COVERING)


def downgrade():
    _open_index(BEFORE)
