"""Activity files: decoding FIT/GPX/TCX into summaries, and walking folders and archives safely."""
