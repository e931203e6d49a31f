"""one notification per user: a user's row is shown in the app and sent by e-mail, not one row for each

Half the outbox rows per event (the sweep's 10,000 due steps wrote 40,000 rows), and the dispatcher no
longer marks in-app rows delivered one batch at a time.

Revision ID: one_notification_per_user
Revises: routing_rule_changed_by
Create Date: 2026-11-22 08:00:00.000000
"""
from alembic import op
import sqlalchemy as sa

revision = 'one_notification_per_user'
down_revision = 'routing_rule_changed_by'
branch_labels = None
depends_on = None

# An e-mail row's in-app twin: the same event and user, '…:uN:email' → '…:uN:in_app'.
IN_APP_TWIN = ("SELECT twin.read_at FROM notifications twin WHERE twin.dedupe_key = "
               "substr(notifications.dedupe_key, 1, length(notifications.dedupe_key) - 6) || ':' || 'in_app'")


def _channel_check(batch, values: str) -> None:
    batch.drop_constraint(batch.f('ck_notifications_channel'), type_='check')
    batch.create_check_constraint(batch.f('ck_notifications_channel'), sa.text(f"channel IN ({values})"))


def upgrade() -> None:
    # What was read in the app stays read; an in-app row without an e-mail twin becomes one already sent.
    op.execute(f"UPDATE notifications SET read_at = ({IN_APP_TWIN}) WHERE channel = 'email' AND read_at IS NULL")
    op.execute("DELETE FROM notifications WHERE channel = 'in_app' AND EXISTS (SELECT 1 FROM notifications e "
               "WHERE e.dedupe_key = substr(notifications.dedupe_key, 1, length(notifications.dedupe_key) - 7) "
               "|| ':' || 'email')")
    op.execute("UPDATE notifications SET channel = 'email', status = 'sent', digest = false, "
               "dedupe_key = substr(dedupe_key, 1, length(dedupe_key) - 7) || ':' || 'email' WHERE channel = 'in_app'")
    with op.batch_alter_table('notifications') as batch:
        _channel_check(batch, "'email', 'webhook'")
        batch.drop_index('ix_notifications_user_id_channel_read_at')
        batch.create_index('ix_notifications_user_id_read_at', ['user_id', 'read_at'])


def downgrade() -> None:
    with op.batch_alter_table('notifications') as batch:
        _channel_check(batch, "'email', 'in_app', 'webhook'")
        batch.drop_index('ix_notifications_user_id_read_at')
        batch.create_index('ix_notifications_user_id_channel_read_at', ['user_id', 'channel', 'read_at'])
    # Each user's row gets its in-app twin back, carrying the read time.
    op.execute("INSERT INTO notifications (dedupe_key, user_id, webhook_id, channel, kind, case_id, language, "
               "payload, digest, status, attempts, next_attempt_at, last_error, created_at, sent_at, read_at) "
               "SELECT substr(dedupe_key, 1, length(dedupe_key) - 6) || ':' || 'in_app', user_id, NULL, 'in_app', kind, "
               "case_id, language, payload, false, 'sent', 0, next_attempt_at, '', created_at, created_at, read_at "
               "FROM notifications WHERE channel = 'email'")
