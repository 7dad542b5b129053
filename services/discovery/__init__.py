"""Discovery: the searchable, multi-platform index of creators."""
