"""the API (issue 13): personal API tokens, and the time of each proposal's and
commitment's last change for ?updated_since=

Existing rows take their creation time as their last change.

Revision ID: b7e41c2d9a53
Revises: b7e4c2a9d613
Create Date: 2026-12-06 14:30:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b7e41c2d9a53'
down_revision = 'b7e4c2a9d613'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'api_token',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=60), nullable=False),
        sa.Column('prefix', sa.String(length=16), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=True),
        sa.Column('last_used_at', sa.DateTime(), nullable=True),
        sa.Column('revoked_at', sa.DateTime(), nullable=True),
        sa.Column('window_start', sa.Integer(), nullable=False),
        sa.Column('window_count', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['user_id'], ['user.id'], name=op.f('fk_api_token_user_id_user'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_token')),
        sa.UniqueConstraint('prefix', name=op.f('uq_api_token_prefix')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_api_token_token_hash')),
    )
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_token_user_id'), ['user_id'], unique=False)

    for table in ('proposal', 'commitment'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('updated_at', sa.DateTime(), nullable=True))
        op.execute(f'UPDATE {table} SET updated_at = created_at')
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('updated_at', existing_type=sa.DateTime(), nullable=False)
            batch_op.create_index(batch_op.f(f'ix_{table}_updated_at'), ['updated_at'], unique=False)
    with op.batch_alter_table('reply_letter', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reply_letter_updated_at'), ['updated_at'], unique=False)


def downgrade():
    with op.batch_alter_table('reply_letter', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reply_letter_updated_at'))
    for table in ('commitment', 'proposal'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f'ix_{table}_updated_at'))
            batch_op.drop_column('updated_at')
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_token_user_id'))
    op.drop_table('api_token')
