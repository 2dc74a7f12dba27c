"""The Telegram platform: updates in as events, actions out as Bot API calls."""
