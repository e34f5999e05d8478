"""the letters a person must complete (待审核), in order and counted, off an index on
(needs_review, id): the queue read the whole letter table for its count

Revision ID: a4c8e2f6b913
Revises: 9d3f5b7e1a26
Create Date: 2026-12-07 11:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a4c8e2f6b913'
down_revision = '9d3f5b7e1a26'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_reply_letter_review', 'reply_letter', ['needs_review', 'id'])


def downgrade():
    op.drop_index('ix_reply_letter_review', table_name='reply_letter')
