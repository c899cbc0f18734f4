"""Output folders: images written whole, and ``manifest.jsonl``, the record of what each one is.

One format for every part that writes images to a folder: large jobs (``flux_widget.jobs``) and the
widget's ``save_to`` gallery (``flux_widget.widget``).
"""
