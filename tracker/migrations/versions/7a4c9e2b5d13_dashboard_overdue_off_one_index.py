"""督办统计's overdue unreplied items off one index: ix_assignment_replied_due holds the
role, active flag, round, proposal and unit besides (replied_on, due_on). The unreplied
assignments due in a period are mostly co-units' (who send opinions, never replies): each
was read from the table to see its role (at 100,000 letters 1,200 rows, 3-5 ms of the page
on SQLite; with the columns in the index, the one overdue reply among them is found off the
index alone)

Revision ID: 7a4c9e2b5d13
Revises: 6e8a0c2d4f17
Create Date: 2026-12-07 22:40:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '7a4c9e2b5d13'
down_revision = '6e8a0c2d4f17'
branch_labels = None
depends_on = None

COLUMNS = ['replied_on', 'due_on', 'role', 'active', 'round', 'proposal_id', 'unit_id']


def upgrade():
    op.drop_index('ix_assignment_replied_due', table_name='assignment')
    op.create_index('ix_assignment_replied_due', 'assignment', COLUMNS)


def downgrade():
    op.drop_index('ix_assignment_replied_due', table_name='assignment')
    op.create_index('ix_assignment_replied_due', 'assignment', ['replied_on', 'due_on'])
