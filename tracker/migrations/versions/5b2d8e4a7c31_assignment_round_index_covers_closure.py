"""办结率 off one index: the first round's items assigned in a period, with their role and
whether they were answered, read from ix_assignment_round_assigned_on alone

Revision ID: 5b2d8e4a7c31
Revises: 7e3a9c5d2f18
Create Date: 2026-12-07 05:20:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '5b2d8e4a7c31'
down_revision = '7e3a9c5d2f18'
branch_labels = None
depends_on = None

NAME = 'ix_assignment_round_assigned_on'


def upgrade():
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.drop_index(NAME)
        batch_op.create_index(NAME, ['round', 'assigned_on', 'role', 'replied_on'], unique=False)


def downgrade():
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.drop_index(NAME)
        batch_op.create_index(NAME, ['round', 'assigned_on'], unique=False)
