"""The three lists (三张清单): needs, resources and service projects, claims and hour logs."""
