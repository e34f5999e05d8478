"""co-sign (会签) requests: each co-handling unit asked about a version of the lead's draft

Revision ID: c05191a7e3d4
Revises: 7d2e91b0c4a8
Create Date: 2026-12-06 14:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c05191a7e3d4'
down_revision = '7d2e91b0c4a8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('cosign_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('letter_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('letter_version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('due_estimated', sa.Boolean(), nullable=False),
    sa.Column('requested_at', sa.DateTime(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_cosign_request_decided_by_id_user')),
    sa.ForeignKeyConstraint(['letter_id'], ['reply_letter.id'], name=op.f('fk_cosign_request_letter_id_reply_letter')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['user.id'], name=op.f('fk_cosign_request_requested_by_id_user')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_cosign_request_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cosign_request')),
    sa.UniqueConstraint('letter_id', 'unit_id', 'letter_version', name=op.f('uq_cosign_request_letter_id_unit_id_letter_version'))
    )
    with op.batch_alter_table('cosign_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cosign_request_letter_id'), ['letter_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cosign_request_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_cosign_request_unit_id'), ['unit_id'], unique=False)


def downgrade():
    with op.batch_alter_table('cosign_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cosign_request_unit_id'))
        batch_op.drop_index(batch_op.f('ix_cosign_request_status'))
        batch_op.drop_index(batch_op.f('ix_cosign_request_letter_id'))

    op.drop_table('cosign_request')
