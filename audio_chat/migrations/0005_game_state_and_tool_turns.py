"""Game-aware helper: the newest game state on the session, and tool turns (a function call and its answer)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("audio_chat", "0004_hint_ladders"),
    ]

    operations = [
        migrations.AddField(
            model_name="chatmessage",
            name="tool",
            field=models.JSONField(
                blank=True,
                help_text="For a tool call: {name, arguments, result}, as the model asked and was told.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="chatsession",
            name="game_state",
            field=models.JSONField(
                blank=True, help_text="The newest state the game reported (step, items, attempts…).", null=True
            ),
        ),
        migrations.AddField(
            model_name="chatsession",
            name="game_state_updated_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="chatmessage",
            name="message_type",
            field=models.CharField(
                choices=[("text", "Text"), ("audio", "Audio"), ("tool_call", "Tool call")],
                default="text",
                max_length=12,
            ),
        ),
        migrations.AlterField(
            model_name="chatmessage",
            name="sender",
            field=models.CharField(
                choices=[("child", "Child"), ("assistant", "Helper"), ("tool", "Tool")], max_length=10
            ),
        ),
    ]
