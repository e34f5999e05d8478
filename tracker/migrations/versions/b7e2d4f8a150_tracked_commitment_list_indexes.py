"""every unit's commitment list in its order, and in its order for one status, off two
indexes of the tracked commitments (partial: candidates and discarded ones are never
listed)

Revision ID: b7e2d4f8a150
Revises: a4c8e2f6b913
Create Date: 2026-12-07 11:20:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b7e2d4f8a150'
down_revision = 'a4c8e2f6b913'
branch_labels = None
depends_on = None

TRACKED = "status IN ('open', 'in_progress', 'done', 'dropped')"
ORDER = [sa.text('(due_on IS NULL)'), 'due_on', 'id']


def upgrade():
    where = {"postgresql_where": sa.text(TRACKED), "sqlite_where": sa.text(TRACKED)}
    op.create_index('ix_commitment_tracked_list', 'commitment', ORDER, **where)
    op.create_index(
        'ix_commitment_tracked_status_list', 'commitment', ['status', *ORDER], **where
    )


def downgrade():
    op.drop_index('ix_commitment_tracked_status_list', table_name='commitment')
    op.drop_index('ix_commitment_tracked_list', table_name='commitment')
