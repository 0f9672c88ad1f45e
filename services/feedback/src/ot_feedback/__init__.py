"""The feedback service: the follow-up two months after a consultation, and the areas' statistics."""
