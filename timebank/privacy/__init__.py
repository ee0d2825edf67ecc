"""A member's own data: everything kept about them, as one JSON download."""
