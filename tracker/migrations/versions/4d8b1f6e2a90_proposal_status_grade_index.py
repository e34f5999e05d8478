"""the proposal list filtered by status and grade off one index, in the list's order, with
the titles a search of the list matches

Revision ID: 4d8b1f6e2a90
Revises: 9c2e7a4f1b36
Create Date: 2026-12-06 20:20:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '4d8b1f6e2a90'
down_revision = '9c2e7a4f1b36'
branch_labels = None
depends_on = None

COLUMNS = ['status', 'classification', 'is_key', 'id', 'title']


def upgrade():
    with op.batch_alter_table('proposal', schema=None) as batch_op:
        batch_op.create_index('ix_proposal_status_grade', COLUMNS, unique=False)


def downgrade():
    with op.batch_alter_table('proposal', schema=None) as batch_op:
        batch_op.drop_index('ix_proposal_status_grade')
