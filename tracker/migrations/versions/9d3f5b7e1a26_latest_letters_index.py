"""the latest letters newest first off an index on (letter_on, id): the public page's

Revision ID: 9d3f5b7e1a26
Revises: 5b2d8e4a7c31
Create Date: 2026-12-07 11:05:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '9d3f5b7e1a26'
down_revision = '5b2d8e4a7c31'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_reply_letter_day', 'reply_letter', ['letter_on', 'id'])


def downgrade():
    op.drop_index('ix_reply_letter_day', table_name='reply_letter')
