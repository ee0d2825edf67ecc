"""The grid tree (street > community > grid > building) and partner organizations."""
