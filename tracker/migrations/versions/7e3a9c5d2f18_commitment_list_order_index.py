"""a unit's commitment list in its order (due first, no date last) off one index, with the
status it filters on

Revision ID: 7e3a9c5d2f18
Revises: 4d8b1f6e2a90
Create Date: 2026-12-06 20:55:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '7e3a9c5d2f18'
down_revision = '4d8b1f6e2a90'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        'ix_commitment_unit_list',
        'commitment',
        ['unit_id', sa.text('(due_on IS NULL)'), 'due_on', 'id', 'status'],
    )


def downgrade():
    op.drop_index('ix_commitment_unit_list', table_name='commitment')
