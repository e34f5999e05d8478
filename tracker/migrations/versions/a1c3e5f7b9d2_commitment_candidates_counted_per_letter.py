"""commitment candidates counted per letter through one index

Revision ID: a1c3e5f7b9d2
Revises: 05059d869ff2
Create Date: 2026-12-06 11:50:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a1c3e5f7b9d2'
down_revision = '05059d869ff2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('commitment', schema=None) as batch_op:
        batch_op.create_index('ix_commitment_letter_status', ['letter_id', 'status'], unique=False)


def downgrade():
    with op.batch_alter_table('commitment', schema=None) as batch_op:
        batch_op.drop_index('ix_commitment_letter_status')
