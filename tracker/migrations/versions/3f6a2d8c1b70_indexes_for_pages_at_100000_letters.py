"""indexes for the pages at 100,000 letters: the proposal list's order, 督办统计's periods,
a unit's commitments by status and due date

Revision ID: 3f6a2d8c1b70
Revises: e3a9d5c1f7b2
Create Date: 2026-12-06 15:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '3f6a2d8c1b70'
down_revision = 'e3a9d5c1f7b2'
branch_labels = None
depends_on = None

INDEXES = [
    ('proposal', 'ix_proposal_list_order', ['is_key', 'id']),
    ('assignment', 'ix_assignment_replied_due', ['replied_on', 'due_on']),
    ('assignment', 'ix_assignment_round_assigned_on', ['round', 'assigned_on']),
    ('reply_letter', 'ix_reply_letter_period', ['letter_on', 'status', 'classification', 'unit_id']),
    ('reply_letter', 'ix_reply_letter_unit_letter_on', ['unit_id', 'letter_on', 'status']),
    ('commitment', 'ix_commitment_status_due_on', ['status', 'due_on', 'unit_id']),
    ('commitment', 'ix_commitment_unit_status_due_on', ['unit_id', 'status', 'due_on']),
]


def upgrade():
    for table, name, columns in INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(name, columns, unique=False)


def downgrade():
    for table, name, _columns in reversed(INDEXES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name)
