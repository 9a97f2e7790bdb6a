"""Re-exports; see the modules of this folder."""
