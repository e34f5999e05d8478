"""我的待办 off indexes: a unit's unanswered assignments (a partial index), its sent
letters by status (how many have candidates), its finished commitments not reported back in
the list's order (done_on, id)

Revision ID: 9c2e7a4f1b36
Revises: 8b4f2c6d1e97
Create Date: 2026-12-06 20:10:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '9c2e7a4f1b36'
down_revision = '8b4f2c6d1e97'
branch_labels = None
depends_on = None

# as tracker.models.assignment_unanswered() renders, on each database
UNANSWERED = (
    "active IS {true} AND (role = 'co' AND opinion_on IS NULL"
    " OR role != 'co' AND replied_on IS NULL)"
)


REPORT_BEFORE = ['unit_id', 'status', 'reported_back_on', 'done_on', 'letter_id']
REPORT = ['unit_id', 'status', 'reported_back_on', 'done_on', 'id', 'letter_id']


def upgrade():
    with op.batch_alter_table('commitment', schema=None) as batch_op:
        batch_op.drop_index('ix_commitment_unit_report')
        batch_op.create_index('ix_commitment_unit_report', REPORT)
    with op.batch_alter_table('reply_letter', schema=None) as batch_op:
        batch_op.create_index('ix_reply_letter_unit_status', ['unit_id', 'status', 'id'])
    op.create_index(
        'ix_assignment_open',
        'assignment',
        ['unit_id', 'due_on', 'id'],
        sqlite_where=sa.text(UNANSWERED.format(true="1")),
        postgresql_where=sa.text(UNANSWERED.format(true="true")),
    )


def downgrade():
    with op.batch_alter_table('commitment', schema=None) as batch_op:
        batch_op.drop_index('ix_commitment_unit_report')
        batch_op.create_index('ix_commitment_unit_report', REPORT_BEFORE)
    op.drop_index('ix_assignment_open', table_name='assignment')
    with op.batch_alter_table('reply_letter', schema=None) as batch_op:
        batch_op.drop_index('ix_reply_letter_unit_status')
