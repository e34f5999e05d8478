"""deputies online: a user's deputy name, the deputy's answer to a contact, how a rating
was entered (online by the deputy, or 代填 by a liaison) and how the deputy was contacted

Revision ID: d3e1f4a2b8c5
Revises: b7e41c2d9a53
Create Date: 2026-12-06 15:05:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'd3e1f4a2b8c5'
down_revision = 'b7e41c2d9a53'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deputy_name', sa.String(length=120), nullable=True))
        batch_op.create_index(batch_op.f('ix_user_deputy_name'), ['deputy_name'], unique=False)

    with op.batch_alter_table('contact_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deputy_status', sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column('deputy_comment', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('deputy_answered_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('deputy_answered_by_id', sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f('ix_contact_log_deputy_status'), ['deputy_status'], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f('fk_contact_log_deputy_answered_by_id_user'),
            'user',
            ['deputy_answered_by_id'],
            ['id'],
        )

    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_method', sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column('source', sa.String(length=8), server_default='proxy', nullable=False)
        )


def downgrade():
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.drop_column('source')
        batch_op.drop_column('contact_method')

    with op.batch_alter_table('contact_log', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_contact_log_deputy_answered_by_id_user'), type_='foreignkey'
        )
        batch_op.drop_index(batch_op.f('ix_contact_log_deputy_status'))
        batch_op.drop_column('deputy_answered_by_id')
        batch_op.drop_column('deputy_answered_at')
        batch_op.drop_column('deputy_comment')
        batch_op.drop_column('deputy_status')

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_deputy_name'))
        batch_op.drop_column('deputy_name')
