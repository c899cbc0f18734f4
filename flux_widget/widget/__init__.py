"""The notebook widget: ``FluxWidget``, its synced state, history, progress and archive."""
