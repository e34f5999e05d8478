"""the proposer's delegation, sector or party (代表团/界别/党派) of a proposal

Revision ID: b7e4c2a9d613
Revises: c05191a7e3d4
Create Date: 2026-12-06 14:40:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b7e4c2a9d613'
down_revision = 'c05191a7e3d4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('proposal', schema=None) as batch_op:
        batch_op.add_column(sa.Column('delegation', sa.String(length=80), nullable=True))


def downgrade():
    with op.batch_alter_table('proposal', schema=None) as batch_op:
        batch_op.drop_column('delegation')
