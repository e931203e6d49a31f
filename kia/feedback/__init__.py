"""Reporter feedback: status of one's own reports, and anonymous follow-up codes with messages."""
