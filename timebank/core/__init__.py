"""Framework-level pieces every domain module stands on."""
