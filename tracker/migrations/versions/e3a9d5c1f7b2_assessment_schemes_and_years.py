"""the year's assessment (考评): scheme versions and the years finalized under them

Revision ID: e3a9d5c1f7b2
Revises: d3e1f4a2b8c5
Create Date: 2026-12-06 15:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e3a9d5c1f7b2'
down_revision = 'd3e1f4a2b8c5'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('assessment_scheme',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('items', sa.JSON(), nullable=False),
    sa.Column('in_person_channels', sa.JSON(), nullable=False),
    sa.Column('frozen_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_assessment_scheme_created_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_scheme')),
    sa.UniqueConstraint('version', name=op.f('uq_assessment_scheme_version'))
    )
    op.create_table('assessment_year',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('scheme_id', sa.Integer(), nullable=False),
    sa.Column('finalized_at', sa.DateTime(), nullable=False),
    sa.Column('finalized_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['finalized_by_id'], ['user.id'], name=op.f('fk_assessment_year_finalized_by_id_user')),
    sa.ForeignKeyConstraint(['scheme_id'], ['assessment_scheme.id'], name=op.f('fk_assessment_year_scheme_id_assessment_scheme')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_year')),
    sa.UniqueConstraint('year', name=op.f('uq_assessment_year_year'))
    )


def downgrade():
    op.drop_table('assessment_year')
    op.drop_table('assessment_scheme')
