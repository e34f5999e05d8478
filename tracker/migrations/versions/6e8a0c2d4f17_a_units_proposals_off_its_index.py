"""a unit's proposals off its assignments' index: ix_assignment_unit_proposal (unit_id,
proposal_id) in place of ix_assignment_unit_id, so that a clerk's proposal list counts the
unit's proposals without reading a proposal's row (each holds the proposal's text: 13,000
rows, 13,000 pages) and asks each proposal whether the unit has it off the index alone

Revision ID: 6e8a0c2d4f17
Revises: c5d1f3a7e920
Create Date: 2026-12-07 21:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '6e8a0c2d4f17'
down_revision = 'c5d1f3a7e920'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_assignment_unit_proposal', 'assignment', ['unit_id', 'proposal_id'])
    op.drop_index('ix_assignment_unit_id', table_name='assignment')


def downgrade():
    op.create_index('ix_assignment_unit_id', 'assignment', ['unit_id'])
    op.drop_index('ix_assignment_unit_proposal', table_name='assignment')
