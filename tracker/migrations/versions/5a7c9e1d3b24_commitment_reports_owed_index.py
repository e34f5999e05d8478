"""a unit's finished commitments not yet reported back, off one index (我的待办); the
ratings of a period (督办统计) and the reassignment requests waiting (the office's 我的待办)
without reading every rating or assignment

Revision ID: 5a7c9e1d3b24
Revises: 3f6a2d8c1b70
Create Date: 2026-12-06 17:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '5a7c9e1d3b24'
down_revision = '3f6a2d8c1b70'
branch_labels = None
depends_on = None

COLUMNS = ['unit_id', 'status', 'reported_back_on', 'done_on', 'letter_id']


def upgrade():
    with op.batch_alter_table('commitment', schema=None) as batch_op:
        batch_op.create_index('ix_commitment_unit_report', COLUMNS, unique=False)
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.create_index('ix_feedback_rated_on', ['rated_on'], unique=False)
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.create_index('ix_assignment_reassign_status', ['reassign_status'], unique=False)


def downgrade():
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.drop_index('ix_assignment_reassign_status')
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.drop_index('ix_feedback_rated_on')
    with op.batch_alter_table('commitment', schema=None) as batch_op:
        batch_op.drop_index('ix_commitment_unit_report')
