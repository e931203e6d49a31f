"""Event types (registry + field definitions), incidents, the persons in them, registration numbers."""
