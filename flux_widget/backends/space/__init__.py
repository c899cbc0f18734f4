"""The Gradio Space backend: its wire format, HTTP with limits, and the client."""
