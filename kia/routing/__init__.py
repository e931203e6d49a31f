"""Who receives a case: routing rules (type × unit subtree → role), delegation and substitutes."""
